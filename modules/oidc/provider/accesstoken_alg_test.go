package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Each client's access tokens are signed with its access_token_alg; the
// token verifies against the published JWKS (as a resource server would,
// with go-jose), and introspection and bearer authentication (the /api/v1
// and /forward-auth path) accept it.
func TestAccessTokenAlgPerClient(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		for _, alg := range clients.AccessTokenAlgs {
			t.Run(alg, func(t *testing.T) {
				c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc " + alg,
					GrantTypes: []string{clients.GrantClientCredentials}, AccessTokenAlg: alg})
				tok, err := ccConfig(ts, c.ID, secret).Token(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				jws, err := jose.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err != nil {
					t.Fatalf("token is not %s: %v", alg, err)
				}
				res, body := get(t, ts.URL+pathKeys, "")
				if res.StatusCode != http.StatusOK {
					t.Fatalf("JWKS: %d", res.StatusCode)
				}
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(body, &set); err != nil {
					t.Fatal(err)
				}
				kid := jws.Signatures[0].Header.KeyID
				keys := set.Key(kid)
				if len(keys) != 1 || keys[0].Algorithm != alg {
					t.Fatalf("kid %s in the JWKS: %v", kid, keys)
				}
				if alg == clients.AlgEdDSA && !jsonContains(body, `"kty":"OKP"`, `"crv":"Ed25519"`) {
					t.Errorf("Ed25519 key not published as OKP (RFC 8037): %s", body)
				}
				if _, err := jws.Verify(keys[0].Key); err != nil {
					t.Fatalf("signature does not verify against the JWKS: %v", err)
				}
				// go-oidc, as relying parties and oauth2-proxy use it, fetches
				// and parses the same JWKS.
				if _, err := gooidc.NewRemoteKeySet(context.Background(), ts.URL+pathKeys).VerifySignature(context.Background(), tok.AccessToken); err != nil {
					t.Errorf("go-oidc: %v", err)
				}
				if st, m := introspect(t, ts, c.ID, secret, tok.AccessToken); st != 200 || m["active"] != true {
					t.Errorf("introspection: %d %v", st, m)
				}
				pr, err := ts.p.AuthenticateBearer(context.Background(), tok.AccessToken)
				if err != nil || pr.Kind != principal.Client || pr.ID != c.ID {
					t.Errorf("bearer authentication: %+v %v", pr, err)
				}
			})
		}
	})
}

package provider

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

func newResourceServer(t *testing.T) (*testServer, *resources.Service) {
	t.Helper()
	db := testutil.NewSQLite(t)
	apis := resources.New(db, audit.New(db), resources.Options{})
	ts := newTestServer(t, db, func(o *Options) { o.Resources = apis })
	return ts, apis
}

// RFC 8707 on the token endpoint, and RFC 7662 §4 introspection limits.
func TestResourceIndicators(t *testing.T) {
	ts, apis := newResourceServer(t)
	ctx := context.Background()
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"invoices:read", "users:read"}})
	rs, rsSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "rs", GrantTypes: []string{clients.GrantClientCredentials}})
	other, otherSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "other", GrantTypes: []string{clients.GrantClientCredentials}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read", "invoices:write"}, ClientIDs: []string{rs.ID}})
	if err != nil {
		t.Fatal(err)
	}

	cfg := ccConfig(ts, c.ID, secret, "invoices:read", "users:read")
	cfg.EndpointParams = url.Values{"resource": {api.Identifier}}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token for the API: %v", err)
	}
	cl := jwtClaims(t, tok.AccessToken)
	if cl["aud"] != api.Identifier && !slices.Equal(claimList(cl["aud"]), []string{api.Identifier}) {
		t.Errorf("aud = %v, want %s", cl["aud"], api.Identifier)
	}
	if cl["scope"] != "invoices:read" {
		t.Errorf("scope = %v, want only the API's scopes (invoices:read)", cl["scope"])
	}
	// Not an admin credential at Gatehouse: no API scopes.
	p, err := ts.p.AuthenticateBearer(ctx, tok.AccessToken)
	if err != nil || p.Scopes == nil || len(p.Scopes) != 0 {
		t.Errorf("a token for another audience authenticates with scopes %v (%v), want none", p.Scopes, err)
	}

	t.Run("introspection", func(t *testing.T) {
		for _, tc := range []struct {
			name, id, secret string
			active           bool
		}{{"issued to", c.ID, secret, true}, {"registered for the API", rs.ID, rsSecret, true}, {"anyone else", other.ID, otherSecret, false}} {
			if _, body := introspect(t, ts, tc.id, tc.secret, tok.AccessToken); body["active"] != tc.active {
				t.Errorf("%s: active = %v, want %v", tc.name, body["active"], tc.active)
			}
		}
	})

	t.Run("unknown or several resources are invalid_target", func(t *testing.T) {
		for _, res := range [][]string{{"https://unknown.example.com"}, {api.Identifier, api.Identifier + "/x"}} {
			cfg := ccConfig(ts, c.ID, secret, "invoices:read")
			cfg.EndpointParams = url.Values{"resource": res}
			if _, err := cfg.Token(ctx); err == nil {
				t.Errorf("resource %v: token issued", res)
			} else if st, code := retrieveCode(err); st != 400 || code != "invalid_target" {
				t.Errorf("resource %v: %d %s, want 400 invalid_target", res, st, code)
			}
		}
	})

	t.Run("without resource the token is the client's", func(t *testing.T) {
		tok, err := ccConfig(ts, c.ID, secret, "users:read").Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if aud := claimList(jwtClaims(t, tok.AccessToken)["aud"]); !slices.Equal(aud, []string{c.ID}) {
			t.Errorf("aud = %v, want the client", aud)
		}
	})

}

// resource= on the authorization request carries to the code's tokens.
func TestResourceOnAuthorizationRequest(t *testing.T) {
	ts, apis := newResourceServer(t)
	ctx := context.Background()
	ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Name: "Ada"}, "")
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"},
		Scopes: []string{"openid", "invoices:read"}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
		Scopes:   []string{"openid", "invoices:read"}}
	authn := flow.Authentication{UserID: "user-1", SessionID: "s", AuthTime: time.Now().UTC(), AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword}
	verifier := oauth2.GenerateVerifier()
	code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", api.Identifier))
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	cl := jwtClaims(t, tok.AccessToken)
	if aud := claimList(cl["aud"]); !slices.Equal(aud, []string{api.Identifier}) || cl["scope"] != "invoices:read" {
		t.Errorf("access token aud %v scope %v, want the API and invoices:read", aud, cl["scope"])
	}
	// An unknown resource on /authorize is refused (redirected as invalid_target).
	resp, err := oidctest.NoRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", "https://nope.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_target") {
		t.Errorf("unknown resource on /authorize: %d %q, want an invalid_target redirect", resp.StatusCode, loc)
	}
}

func claimList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

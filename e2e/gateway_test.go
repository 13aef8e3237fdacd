package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// gatewayAPI is the API (resource server) the gateway tests protect.
const gatewayAPI = "https://invoices.example.com"

// createResource registers an API with the CLI and returns its JSON.
func createResource(t *testing.T, srv *server, args ...string) map[string]any {
	t.Helper()
	out := mustCLI(t, srv, "", append([]string{"resources", "create"}, args...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("resources create printed %q: %v", out, err)
	}
	return m
}

// echoUpstream answers with the headers it received, as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(up.Close)
	return up
}

func gatewayGet(t *testing.T, u, key string) (int, http.Header, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var seen http.Header
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
			t.Fatalf("upstream answer: %v", err)
		}
	}
	return resp.StatusCode, resp.Header, seen
}

// TestGatewayForwardAuth puts real nginx (auth_request) and Caddy
// (forward_auth) in front of an upstream: an API key at the gateway becomes
// a JWT for the API at the upstream; no credential is 401, a denied
// permission 403, and a revoked key is refused at once; on SQLite and
// PostgreSQL.
func TestGatewayForwardAuth(t *testing.T) {
	t.Parallel()
	forEachDB(t, testGatewayForwardAuth)
}

func testGatewayForwardAuth(t *testing.T, db dbKind) {
	srv := startServer(t, serverOpts{DB: db})
	userID := createUser(t, srv, "gw-user@example.com", "correct horse battery", "auditor")
	createResource(t, srv, "--identifier", gatewayAPI, "--name", "Invoices", "--scope", "invoices:read")
	key := createAPIKey(t, srv, "gw-user@example.com", "gateway")
	up := echoUpstream(t)
	upPort := mustPort(t, up.URL)
	prov := newProvider(t, srv)
	verifier := prov.Verifier(&oidc.Config{ClientID: gatewayAPI, SupportedSigningAlgs: []string{"ES256", "RS256"}})

	gateways := map[string]string{
		"nginx": startGateway(t, "nginx", gatewayNginxConf, srv.Port, upPort, url.QueryEscape(gatewayAPI)),
		"caddy": startGateway(t, "caddy", gatewayCaddyfile, srv.Port, upPort, url.QueryEscape(gatewayAPI)),
	}
	for name, base := range gateways {
		t.Run(name, func(t *testing.T) {
			st, _, seen := gatewayGet(t, base+"/invoices", key)
			if st != http.StatusOK {
				t.Fatalf("with an API key: %d, want 200", st)
			}
			if seen.Get("X-Gatehouse-User") != userID || seen.Get("X-Gatehouse-Email") != "gw-user@example.com" || seen.Get("X-Gatehouse-Roles") != "auditor" {
				t.Errorf("upstream saw %v", seen)
			}
			raw := strings.TrimPrefix(seen.Get("Authorization"), "Bearer ")
			if raw == key || raw == "" {
				t.Fatalf("upstream got Authorization %q, want a JWT instead of the key", seen.Get("Authorization"))
			}
			tok, err := verifier.Verify(ctxTimeout(t), raw)
			if err != nil {
				t.Fatalf("the upstream's JWT does not verify against the JWKS with aud %s: %v", gatewayAPI, err)
			}
			if tok.Subject != userID || tok.Expiry.Sub(tok.IssuedAt).Minutes() > 5 {
				t.Errorf("sub %s, lifetime %s", tok.Subject, tok.Expiry.Sub(tok.IssuedAt))
			}
			if h, _ := jwtParts(t, raw); h["typ"] != "at+jwt" {
				t.Errorf("typ %v, want at+jwt", h["typ"])
			}

			st, hdr, _ := gatewayGet(t, base+"/invoices", "")
			if st != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("no credential: %d %q, want 401 with WWW-Authenticate: Bearer", st, hdr.Get("WWW-Authenticate"))
			}
			if st, _, _ := gatewayGet(t, base+"/admin/users", key); st != http.StatusForbidden {
				t.Errorf("denied permission (auditor may not delete users): %d, want 403", st)
			}
		})
	}

	// Revoke the key: both gateways refuse it at once.
	var keys struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	api(srv, key).get(t, "/api-keys").expect(t, http.StatusOK).decode(t, &keys)
	if len(keys.Items) != 1 {
		t.Fatalf("keys %+v", keys)
	}
	api(srv, srv.AdminKey(t)).do(t, http.MethodDelete, "/api-keys/"+keys.Items[0].ID, nil).expect(t, http.StatusOK, http.StatusNoContent)
	for name, base := range gateways {
		if st, _, _ := gatewayGet(t, base+"/invoices", key); st != http.StatusUnauthorized {
			t.Errorf("%s: a revoked key answered %d, want 401", name, st)
		}
	}
}

func mustPort(t *testing.T, raw string) int {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var p int
	for _, c := range u.Port() {
		p = p*10 + int(c-'0')
	}
	return p
}

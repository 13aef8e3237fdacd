package e2e

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestOIDCDiscovery: the discovery document (OpenID Connect Discovery 1.0)
// names the issuer and every endpoint on it, the CONTRACT's scopes, RS256
// for ID tokens and the grant types Gatehouse offers; the JWKS it points to
// holds public RSA signing keys.
func TestOIDCDiscovery(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})

	// go-oidc checks the issuer matches the URL it was discovered from.
	newProvider(t, srv)

	r := get(t, srv.URL+"/.well-known/openid-configuration").expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("discovery Content-Type %q, want application/json", ct)
	}
	var d map[string]any
	r.decode(t, &d)
	if got := docString(t, d, "issuer"); got != srv.URL {
		t.Errorf("issuer %q, want %q", got, srv.URL)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
		"revocation_endpoint", "introspection_endpoint", "end_session_endpoint"} {
		v := docString(t, d, k)
		if !strings.HasPrefix(v, srv.URL+"/") {
			t.Errorf("%s %q is not under the issuer %s", k, v, srv.URL)
		}
	}
	scopes := docStrings(d, "scopes_supported")
	for _, s := range []string{"openid", "profile", "email", "roles", "offline_access"} {
		if !contains(scopes, s) {
			t.Errorf("scopes_supported %v lacks %q (CONTRACT)", scopes, s)
		}
	}
	if algs := docStrings(d, "id_token_signing_alg_values_supported"); !contains(algs, "RS256") {
		t.Errorf("id_token_signing_alg_values_supported %v lacks RS256 (CONTRACT, OIDC Discovery §3)", algs)
	}
	grants := docStrings(d, "grant_types_supported")
	sort.Strings(grants)
	want := []string{"authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"}
	if !slices.Equal(grants, want) {
		t.Errorf("grant_types_supported %v, want exactly %v (CONTRACT: clients create grant types)", grants, want)
	}
	if rt := docStrings(d, "response_types_supported"); !contains(rt, "code") {
		t.Errorf("response_types_supported %v lacks code", rt)
	}
	if m := docStrings(d, "code_challenge_methods_supported"); !contains(m, "S256") {
		t.Errorf("code_challenge_methods_supported %v lacks S256 (RFC 8414 §2, RFC 7636)", m)
	}
	if st := docStrings(d, "subject_types_supported"); len(st) == 0 {
		t.Errorf("subject_types_supported missing (REQUIRED by OIDC Discovery §3)")
	}

	// The JWKS: public RSA keys with kid, no private parts.
	jr := get(t, docString(t, d, "jwks_uri")).expect(t, http.StatusOK)
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	jr.decode(t, &jwks)
	if len(jwks.Keys) == 0 {
		t.Fatalf("JWKS has no keys: %s", jr.Body)
	}
	rsa := 0
	for _, k := range jwks.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v publishes the private member %q", k["kid"], private)
			}
		}
		if k["kty"] == "RSA" {
			rsa++
			if k["kid"] == nil || k["kid"] == "" || k["n"] == nil || k["e"] == nil {
				t.Errorf("RSA key without kid/n/e: %v", k)
			}
		}
	}
	if rsa == 0 {
		t.Errorf("JWKS has no RSA key for RS256: %s", jr.Body)
	}
}

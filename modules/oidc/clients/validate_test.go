package clients

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func TestClientNormalize(t *testing.T) {
	tests := []struct {
		name      string
		c         Client
		wantField string // "" = valid
	}{
		{"web client", Client{Name: "a", RedirectURIs: []string{"https://app.test/cb"}}, ""},
		{"native loopback and custom scheme", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"http://127.0.0.1/cb", "com.example.app:/cb"}}, ""},
		{"machine client", Client{Name: "a", GrantTypes: []string{GrantClientCredentials}}, ""},
		{"name required", Client{Name: "  ", RedirectURIs: []string{"https://a.test/cb"}}, "name"},
		{"code needs a redirect URI", Client{Name: "a"}, "redirect_uris"},
		{"no wildcards", Client{Name: "a", RedirectURIs: []string{"https://*.app.test/cb"}}, "redirect_uris"},
		{"no fragment", Client{Name: "a", RedirectURIs: []string{"https://app.test/cb#x"}}, "redirect_uris"},
		{"absolute only", Client{Name: "a", RedirectURIs: []string{"/cb"}}, "redirect_uris"},
		{"javascript refused", Client{Name: "a", RedirectURIs: []string{"javascript:alert(1)//"}}, "redirect_uris"},
		{"javascript refused for public", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"JavaScript:alert(1)"}}, "redirect_uris"},
		{"data refused", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"data:text/html,<script>alert(1)</script>"}}, "redirect_uris"},
		{"file refused", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"file:///etc/passwd"}}, "redirect_uris"},
		{"vbscript refused", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"vbscript:msgbox(1)"}}, "redirect_uris"},
		{"scheme without a dot refused", Client{Name: "a", Public: true, RequirePKCE: true, RedirectURIs: []string{"myapp:/cb"}}, "redirect_uris"},
		{"private-use scheme only for public clients", Client{Name: "a", RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris"},
		{"post-logout javascript refused", Client{Name: "a", RedirectURIs: []string{"https://a.test/cb"}, PostLogoutRedirectURIs: []string{"javascript:alert(1)"}}, "post_logout_redirect_uris"},
		{"post-logout URIs checked", Client{Name: "a", RedirectURIs: []string{"https://a.test/cb"}, PostLogoutRedirectURIs: []string{"nope"}}, "post_logout_redirect_uris"},
		{"unknown grant", Client{Name: "a", GrantTypes: []string{"password"}}, "grant_types"},
		{"public client must require PKCE", Client{Name: "a", Public: true, RedirectURIs: []string{"https://a.test/cb"}}, "require_pkce"},
		{"confidential client may opt out of PKCE", Client{Name: "a", RedirectURIs: []string{"https://a.test/cb"}}, ""},
		{"public client_credentials", Client{Name: "a", Public: true, RequirePKCE: true, GrantTypes: []string{GrantClientCredentials}}, "grant_types"},
		{"alg", Client{Name: "a", GrantTypes: []string{GrantClientCredentials}, IDTokenAlg: "HS256"}, "id_token_signed_response_alg"},
		{"access token alg", Client{Name: "a", GrantTypes: []string{GrantClientCredentials}, AccessTokenAlg: "HS256"}, "access_token_alg"},
		{"ttl bound", Client{Name: "a", GrantTypes: []string{GrantClientCredentials}, AccessTokenTTL: 48 * time.Hour}, "access_token_ttl"},
		{"scope syntax", Client{Name: "a", GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"a b"}}, "scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			err := c.normalize()
			var ve *validation.Error
			switch {
			case tt.wantField == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantField != "" && (!errors.As(err, &ve) || ve.Field != tt.wantField || !isInvalid(err)):
				t.Errorf("error = %v, want field %s", err, tt.wantField)
			}
		})
	}
	c := Client{Name: "a", RedirectURIs: []string{"https://a.test/cb", "https://a.test/cb"}}
	if err := c.normalize(); err != nil || len(c.GrantTypes) != 2 || len(c.RedirectURIs) != 1 || c.IDTokenAlg != AlgRS256 || c.AccessTokenAlg != AlgES256 {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

func TestVerifySecret(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Second)
	rec := &clientRecord{secrets: []clientSecretRow{{SecretHash: secret.Hash("current")}, {SecretHash: secret.Hash("old"), ExpiresAt: &past}}}
	for secret, want := range map[string]bool{"current": true, "old": false, "": false, "other": false} {
		if got := rec.verifySecret(secret, now); got != want {
			t.Errorf("verifySecret(%q) = %v", secret, got)
		}
	}
	rec.Public = true
	if rec.verifySecret("current", now) {
		t.Errorf("public client accepted a secret")
	}
}

// isInvalid reports a validation error (a field named) or a bad page token.
func isInvalid(err error) bool {
	_, ok := validation.As(err)
	return ok || errors.Is(err, page.ErrBadToken)
}

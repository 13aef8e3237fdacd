package clients

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// invalidClient names the field of a client definition that is wrong.
func invalidClient(field, format string, args ...any) error {
	return validation.Field(field, format, args...)
}

// normalize applies defaults and validates c; it is used on create and update.
func (c *Client) normalize() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return invalidClient("name", "is required")
	}
	if len(c.Name) > 200 {
		return invalidClient("name", "must be at most 200 characters")
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	c.GrantTypes = dedupe(c.GrantTypes)
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken:
		case GrantClientCredentials, GrantTokenExchange:
			if c.Public {
				return invalidClient("grant_types", "a public client cannot use %s", g)
			}
		default:
			return invalidClient("grant_types", "unknown grant type %q (authorization_code, refresh_token, client_credentials, token_exchange)", g)
		}
	}
	c.RedirectURIs = dedupe(c.RedirectURIs)
	for _, u := range c.RedirectURIs {
		if err := validateRedirectURI(u, c.Public); err != nil {
			return invalidClient("redirect_uris", "%q: %v", u, err)
		}
	}
	if c.Allows(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return invalidClient("redirect_uris", "a redirect URI is required when the client may use authorization_code")
	}
	c.PostLogoutRedirectURIs = dedupe(c.PostLogoutRedirectURIs)
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validateRedirectURI(u, c.Public); err != nil {
			return invalidClient("post_logout_redirect_uris", "%q: %v", u, err)
		}
	}
	if c.Public && !c.RequirePKCE {
		return invalidClient("require_pkce", "a public client always requires PKCE")
	}
	c.Scopes = dedupe(c.Scopes)
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") || len(s) > 100 {
			return invalidClient("scopes", "%q is not a valid scope", s)
		}
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = AlgRS256
	}
	if c.IDTokenAlg != AlgRS256 && c.IDTokenAlg != AlgES256 {
		return invalidClient("id_token_signed_response_alg", "must be RS256 or ES256")
	}
	if c.AccessTokenAlg == "" {
		c.AccessTokenAlg = AlgES256
	}
	if !slices.Contains(AccessTokenAlgs, c.AccessTokenAlg) {
		return invalidClient("access_token_alg", "must be ES256, RS256 or EdDSA")
	}
	for _, f := range []struct {
		name string
		d    time.Duration
		max  time.Duration
	}{
		{"access_token_ttl", c.AccessTokenTTL, MaxTokenTTL},
		{"id_token_ttl", c.IDTokenTTL, MaxTokenTTL},
		{"refresh_token_ttl", c.RefreshTokenTTL, maxRefreshTTL},
		{"refresh_token_idle_ttl", c.RefreshTokenIdleTTL, maxRefreshTTL},
	} {
		if f.d < 0 || f.d > f.max {
			return invalidClient(f.name, "must be between 0 (default) and %s", f.max)
		}
		if f.d != 0 && f.d < time.Second {
			return invalidClient(f.name, "must be at least one second")
		}
	}
	return nil
}

// validateRedirectURI enforces exact, absolute redirect URIs (OAuth 2.0
// Security BCP §4.1.3): no fragment (RFC 6749 §3.1.2), no wildcard. Loopback
// port freedom for native clients (RFC 8252 §7.3) is applied at match time by
// the library, not by registering patterns. The scheme is https or http, or
// for a public (native) client a private-use scheme in reverse-domain form
// (RFC 8252 §7.1, e.g. com.example.app:/cb); javascript:, data:, file:,
// vbscript: and every other scheme are refused, since Gatehouse's pages
// redirect and link to these URIs.
func validateRedirectURI(raw string, public bool) error {
	if strings.Contains(raw, "*") {
		return fmt.Errorf("wildcards are not allowed")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Scheme == "" {
		return fmt.Errorf("must be absolute")
	}
	if err := checkRedirectScheme(strings.ToLower(u.Scheme), public); err != nil {
		return err
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("must not have a fragment")
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return fmt.Errorf("must have a host")
	}
	if len(raw) > 2000 {
		return fmt.Errorf("too long")
	}
	return nil
}

// dangerousSchemes run code or read local files when a browser follows them.
var dangerousSchemes = []string{"javascript", "data", "file", "vbscript"}

// checkRedirectScheme allows https, http, and (public clients only) a
// private-use scheme with at least one dot (RFC 8252 §7.1: a reverse domain
// name the app's publisher controls).
func checkRedirectScheme(scheme string, public bool) error {
	switch {
	case scheme == "https" || scheme == "http":
		return nil
	case slices.Contains(dangerousSchemes, scheme):
		return fmt.Errorf("the %s: scheme is not allowed", scheme)
	case !strings.Contains(scheme, "."):
		return fmt.Errorf("scheme %q is not allowed: use https, http, or for a public client a reverse-domain private-use scheme such as com.example.app", scheme)
	case !public:
		return fmt.Errorf("private-use scheme %q is only for public (native) clients (RFC 8252 §7.1)", scheme)
	}
	return nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

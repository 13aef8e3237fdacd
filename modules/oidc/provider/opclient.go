package provider

import (
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opClient adapts a client to op.Client.
type opClient struct{ rec clients.Client }

var _ op.Client = (*opClient)(nil)

func (c *opClient) GetID() string                    { return c.rec.ID }
func (c *opClient) RedirectURIs() []string           { return c.rec.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string { return c.rec.PostLogoutRedirectURIs }

// ApplicationType: confidential clients are web apps; public clients are
// native apps, for which the library applies RFC 8252 (loopback redirect on
// any port, custom schemes).
func (c *opClient) ApplicationType() op.ApplicationType {
	if c.rec.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *opClient) AuthMethod() oidc.AuthMethod {
	if c.rec.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes: only the authorization code flow (no implicit, OAuth 2.0
// Security BCP §2.1.2).
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *opClient) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.rec.GrantTypes))
	for i, g := range c.rec.GrantTypes {
		out[i] = oidc.GrantType(g)
		if g == clients.GrantTokenExchange {
			out[i] = oidc.GrantTypeTokenExchange
		}
	}
	return out
}

// LoginURL is the sign-in page the pages half serves.
func (c *opClient) LoginURL(id string) string { return "/login?authRequestID=" + id }

func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *opClient) IDTokenLifetime() time.Duration      { return c.rec.IDTTL() }
func (c *opClient) DevMode() bool                       { return false }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed decides the non-standard scopes (roles, API scopes) a
// client may request at /authorize; others are dropped by the library.
func (c *opClient) IsScopeAllowed(scope string) bool {
	return slices.Contains(c.rec.AllowedScopes(), scope) && !strings.ContainsAny(scope, " ")
}

// requirePKCE: public clients always, confidential ones unless they opted
// out.
func (c *opClient) requirePKCE() bool { return c.rec.Public || c.rec.RequirePKCE }

// usableScopes keeps the scopes of scopes that the client may still use, by
// the rule /authorize applies (op.ValidateAuthReqScopes): the OpenID
// standard scopes always, any other only while IsScopeAllowed. A refresh
// uses it so that a scope taken from the client since the sign-in is not
// carried forward.
func (c *opClient) usableScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		switch s {
		case oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeAddress, oidc.ScopeOfflineAccess:
			out = append(out, s)
		default:
			if c.IsScopeAllowed(s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// IDTokenUserinfoClaimsAssertion: profile and email claims go into the ID
// token too, not only to /userinfo.
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *opClient) ClockSkew() time.Duration             { return 0 }

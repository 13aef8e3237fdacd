package provider

import (
	"slices"

	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Scopes the provider understands beyond the OpenID Connect standard ones.
const (
	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeEmail         = "email"
	scopeRoles         = "roles"
	scopeOfflineAccess = "offline_access"
)

// supportedScopes is advertised as scopes_supported (CONTRACT: at least
// these five: openid, profile, email, roles, offline_access); they are the
// registry's defaults for a client registered without a scope list.
var supportedScopes = clients.DefaultScopes

// claimsFor returns the user claims a set of granted scopes releases
// (OpenID Connect Core 1.0 §5.4): profile → name, preferred_username,
// updated_at; email → email, email_verified; roles → roles (always a JSON
// array, possibly empty). perms, when non-nil (the client has the
// permissions claim option), becomes the permissions claim whatever the
// scopes: a sorted, deduplicated JSON array of "<resource>#<action>"
// strings, possibly empty. sub is always present. It is pure, so the same
// function feeds the ID token, the access token and userinfo.
func claimsFor(u identity.User, roles, perms []string, scopes []string) map[string]any {
	c := map[string]any{"sub": u.ID}
	if slices.Contains(scopes, scopeProfile) {
		if u.Name != "" {
			c["name"] = u.Name
		}
		username := u.Username
		if username == "" {
			username = u.Email
		}
		if username != "" {
			c["preferred_username"] = username
		}
		if !u.UpdatedAt.IsZero() {
			c["updated_at"] = u.UpdatedAt.Unix()
		}
	}
	if slices.Contains(scopes, scopeEmail) && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scopes, scopeRoles) {
		r := make([]string, 0, len(roles))
		r = append(r, roles...)
		slices.Sort(r)
		c["roles"] = slices.Compact(r)
	}
	if perms != nil {
		c[claimPermissions] = sortedSet(perms)
	}
	return c
}

// sortedSet is a sorted, deduplicated copy of in (never nil).
func sortedSet(in []string) []string {
	out := make([]string, 0, len(in))
	out = append(out, in...)
	slices.Sort(out)
	return slices.Compact(out)
}

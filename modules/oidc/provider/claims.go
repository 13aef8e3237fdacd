package provider

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/zitadel/oidc/v3/pkg/oidc"
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

// userClaims loads the user and (for the roles scope) their roles and runs
// claimsFor; perms (from permissionsFor, nil for no claim) pass through. A
// disabled or deleted user yields an error.
func (p *Provider) userClaims(ctx context.Context, userID string, scopes, perms []string) (map[string]any, error) {
	u, err := p.users.UserByID(ctx, userID)
	if err != nil {
		if errors.Is(err, identity.ErrNotFound) {
			return nil, oidc.ErrInvalidGrant().WithDescription("user not found")
		}
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if u.Status == identity.StatusDisabled {
		return nil, oidc.ErrInvalidGrant().WithDescription("user is disabled")
	}
	var roles []string
	if containsScope(scopes, scopeRoles) {
		if roles, err = p.users.RolesOf(ctx, userID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	return claimsFor(u, roles, perms, scopes), nil
}

func containsScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}

// setUserInfo copies claimsFor's output into the library's UserInfo.
func setUserInfo(info *oidc.UserInfo, c map[string]any) {
	for k, v := range c {
		switch k {
		case "sub":
			info.Subject, _ = v.(string)
		case "name":
			info.Name, _ = v.(string)
		case "preferred_username":
			info.PreferredUsername, _ = v.(string)
		case "updated_at":
			if n, ok := v.(int64); ok {
				info.UpdatedAt = oidc.FromTime(time.Unix(n, 0))
			}
		case "email":
			info.Email, _ = v.(string)
		case "email_verified":
			b, _ := v.(bool)
			info.EmailVerified = oidc.Bool(b)
			if !b {
				// The library's field is omitempty: false would vanish, and
				// relying parties such as oauth2-proxy take a missing
				// email_verified for a verified address. As an extra claim
				// it is kept (the registered fields only add to them).
				info.AppendClaims("email_verified", false)
			}
		default:
			info.AppendClaims(k, v)
		}
	}
}

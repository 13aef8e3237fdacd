package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// grant is what a user token response is issued from.
type grant struct {
	subject, clientID string
	scopes            []string
	grantID           string
	sessionID         string
	authTime          time.Time
	amr               []string
	acr               string
	idRequest         op.IDTokenRequest
	resource          *resources.Resource // RFC 8707 target; nil: the client
	boundResource     string              // the authorization request's resource: a new family keeps it
	code              string
	newFamily         bool            // start a refresh token family (code + offline_access)
	rotate            *refreshRequest // rotate this refresh token
}

// issueTokens composes the token response of the code and refresh grants:
// an RFC 9068 access token (server algorithm), a rotated or new refresh
// token, and an ID token signed with the client's algorithm by the library's
// op.CreateIDToken (at_hash, c_hash, nonce, auth_time, amr, acr).
func (p *Provider) issueTokens(ctx context.Context, c clients.Client, g grant) (*oidc.AccessTokenResponse, error) {
	var roles []string
	if containsScope(g.scopes, scopeRoles) {
		var err error
		if roles, err = p.users.RolesOf(ctx, g.subject); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		if roles == nil {
			roles = []string{}
		}
	}
	// Computed at issuance, once for both tokens; nil unless the client
	// has the permissions claim option.
	perms, err := p.permissionsFor(ctx, &c, g.subject)
	if err != nil {
		return nil, err
	}
	var refresh string
	switch {
	case g.rotate != nil:
		refresh, err = p.rotateRefreshToken(ctx, g.rotate, &c)
	case g.newFamily:
		refresh, err = p.newRefreshToken(ctx, refreshTokenRow{
			FamilyID: g.grantID, ClientID: g.clientID, UserID: g.subject, SessionID: g.sessionID,
			Scopes: g.scopes, AMR: nonNil(g.amr), ACR: g.acr, AuthTime: g.authTime, Resource: g.boundResource,
		}, &c)
		if err != nil {
			err = oidc.ErrServerError().WithParent(err)
		}
	}
	if err != nil {
		return nil, err
	}
	ttl := c.AccessTTL()
	aud, atScopes := forResource(g.resource, g.scopes)
	access, _, err := p.mintAccessToken(p.issuer, accessToken{
		Subject: g.subject, ClientID: g.clientID, Audience: aud, Scopes: atScopes, GrantID: g.grantID, SessionID: g.sessionID,
		AuthTime: g.authTime, AMR: g.amr, ACR: g.acr, Roles: roles, Permissions: perms, Expires: p.now().Add(ttl),
		Alg: c.AccessTokenAlg,
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: access, RefreshToken: refresh, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(ttl / time.Second), Scope: atScopes,
	}
	if containsScope(g.scopes, scopeOpenID) {
		key, err := p.keys.activeKey(jose.SignatureAlgorithm(c.IDTokenAlg))
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		ctx = op.ContextWithIssuer(ctx, p.issuer)
		ctx = withIssuedPermissions(ctx, perms) // nil too: no second look-up
		idt, err := op.CreateIDToken(ctx, p.issuer, g.idRequest, c.IDTTL(), access, g.code,
			idTokenStorage{storage: p.storage, key: key}, &opClient{rec: c})
		if err != nil {
			return nil, err
		}
		resp.IDToken = idt
	}
	return resp, nil
}

// permissionsFor returns the user's permissions for the permissions claim,
// or nil (no claim) when the client did not ask for it or no source is
// wired; only clients with the option pay for the look-up. The result is
// never nil when the claim is due, so the claim is then always an array.
func (p *Provider) permissionsFor(ctx context.Context, c *clients.Client, userID string) ([]string, error) {
	if c == nil || !c.PermissionsClaim || p.opts.Permissions == nil {
		return nil, nil
	}
	perms, err := p.opts.Permissions.PermissionsFor(ctx, userID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(fmt.Errorf("oidc: permissions of %s: %w", userID, err))
	}
	if perms == nil {
		perms = []string{}
	}
	return perms, nil
}

// issuedPermissionsKey carries the permissions issueTokens computed for the
// access token to the ID token (op.CreateIDToken → SetUserinfoFromRequest),
// so both tokens of one response agree and the look-up runs once.
type issuedPermissionsKey struct{}

func withIssuedPermissions(ctx context.Context, perms []string) context.Context {
	return context.WithValue(ctx, issuedPermissionsKey{}, perms)
}

func issuedPermissions(ctx context.Context) ([]string, bool) {
	perms, ok := ctx.Value(issuedPermissionsKey{}).([]string)
	return perms, ok
}

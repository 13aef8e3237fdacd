package provider

// Resource indicators (RFC 8707): resource=<identifier> on the
// authorization request (kept with the stored request, authrequest.go) or
// on a token request names a registered API (modules/oidc/resources); the
// access token's aud is then that identifier and its scopes are those of
// the grant that the API defines. The authorization request's resource binds
// the grant: its refresh tokens keep it (oidc_refresh_tokens.resource) and
// a refresh gives tokens for that API without repeating resource=
// (grant_refresh.go). Without one, tokens are for the client
// (aud = client_id). Gatehouse's own API does not accept a token for
// another audience as an admin credential (AuthenticateBearer).

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

// paramResource is the RFC 8707 request parameter.
const paramResource = "resource"

// resourceByIdentifier resolves one identifier; an unknown one (or no
// registry) is invalid_target (RFC 8707 §2).
func (p *Provider) resourceByIdentifier(ctx context.Context, identifier string) (*resources.Resource, error) {
	if p.opts.Resources == nil {
		return nil, oidc.ErrInvalidTarget().WithDescription("unknown resource %q", identifier)
	}
	r, err := p.opts.Resources.ByIdentifier(ctx, identifier)
	if errors.Is(err, resources.ErrNotFound) {
		return nil, oidc.ErrInvalidTarget().WithDescription("unknown resource %q", identifier)
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &r, nil
}

// requestedResource returns the single resource a request names: "" for
// none; more than one is invalid_target (Gatehouse issues a token for one
// audience at a time).
func requestedResource(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		if values[0] == "" {
			return "", oidc.ErrInvalidTarget().WithDescription("empty resource")
		}
		return values[0], nil
	}
	return "", oidc.ErrInvalidTarget().WithDescription("at most one resource per request")
}

// tokenResource resolves the resource of a token request; authorized is the
// one the authorization request named (code grant, and the refreshes of its
// grant, which keep it in oidc_refresh_tokens.resource), which a token
// request may repeat but not change (RFC 8707 §2.2: it may narrow the
// grant's resources, and a grant has one).
func (p *Provider) tokenResource(ctx context.Context, values []string, authorized string) (*resources.Resource, error) {
	id, err := requestedResource(values)
	if err != nil {
		return nil, err
	}
	if authorized != "" {
		if id != "" && id != authorized {
			return nil, oidc.ErrInvalidTarget().WithDescription("resource differs from the authorization request's")
		}
		id = authorized
	}
	if id == "" {
		return nil, nil
	}
	return p.resourceByIdentifier(ctx, id)
}

// forResource is what a token for r carries: aud = [identifier] and the
// scopes of the grant the API defines. With r nil: the client's audience
// and the grant's scopes.
func forResource(r *resources.Resource, scopes []string) (aud, atScopes []string) {
	if r == nil {
		return nil, scopes
	}
	return []string{r.Identifier}, r.LimitScopes(scopes)
}

// authorizeResourceKey carries the validated resource of an authorization
// request from server.Authorize to storage.CreateAuthRequest.
type authorizeResourceKey struct{}

func withAuthorizeResource(ctx context.Context, identifier string) context.Context {
	return context.WithValue(ctx, authorizeResourceKey{}, identifier)
}

func authorizeResource(ctx context.Context) string {
	id, _ := ctx.Value(authorizeResourceKey{}).(string)
	return id
}

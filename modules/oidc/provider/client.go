package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// ClientLookup is what the provider needs from the client registry
// (clients.Service satisfies it): the cached look-up of the token path, the
// secret check, and the origins allowed cross-origin calls. Unknown clients
// are clients.ErrNotFound, a wrong secret clients.ErrWrongSecret; anything
// else is a fault.
type ClientLookup interface {
	ClientByID(ctx context.Context, id string) (clients.Client, error)
	Authenticate(ctx context.Context, id, secret string) (clients.Client, error)
	// IsRedirectOrigin: is origin that of some client's redirect URI (CORS)?
	IsRedirectOrigin(ctx context.Context, origin string) (bool, error)
}

// The provider ends a deleted client's grants (clients.Service calls it
// inside the delete's transaction).
var _ clients.DeleteListener = (*Provider)(nil)

// client looks a client up. Unknown clients are invalid_client; database
// faults server_error (the op library's contract).
func (p *Provider) client(ctx context.Context, id string) (clients.Client, error) {
	c, err := p.clients.ClientByID(ctx, id)
	if errors.Is(err, clients.ErrNotFound) {
		return clients.Client{}, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return clients.Client{}, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

// authenticateClient checks a confidential client's secret. Failure is
// invalid_client with 401 (RFC 6749 §5.2); a database fault server_error.
func (p *Provider) authenticateClient(ctx context.Context, id, secret string) (clients.Client, error) {
	c, err := p.clients.Authenticate(ctx, id, secret)
	if err != nil && !errors.Is(err, clients.ErrNotFound) && !errors.Is(err, clients.ErrWrongSecret) {
		return clients.Client{}, oidc.ErrServerError().WithParent(err)
	}
	if err != nil {
		return clients.Client{}, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
	}
	return c, nil
}

// ClientDeleted revokes the deleted client's refresh tokens, in the
// delete's transaction; its access tokens stop verifying at once (the
// client no longer resolves) and expired rows are cleaned up later.
func (p *Provider) ClientDeleted(ctx context.Context, clientID string) error {
	return database.Conn(ctx, p.db.Gorm).Model(&refreshTokenRow{}).
		Where("client_id = ? AND revoked_at IS NULL", clientID).Update("revoked_at", p.now()).Error
}

// emptyBasicSecret reports a token, introspection or revocation request
// that authenticates with HTTP Basic and an empty password. That is
// client_secret_basic without a secret: a failed authentication (401
// invalid_client), whether the client is confidential or public (a public
// client sends its client_id in the body, token_endpoint_auth_method none).
// The library would otherwise take it for a public client's "none" or
// answer 400.
func emptyBasicSecret(r *http.Request) bool {
	switch r.URL.Path {
	case pathToken, pathIntrospect, pathRevoke:
	default:
		return false
	}
	_, pass, ok := r.BasicAuth()
	return ok && pass == ""
}

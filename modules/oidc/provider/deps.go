package provider

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

// UserDirectory is what the provider needs from identity: the user behind a
// token's subject (claims, userinfo) and their roles (the roles claim).
// identity.Service satisfies it.
type UserDirectory interface {
	UserByID(ctx context.Context, id string) (identity.User, error)
	RolesOf(ctx context.Context, userID string) ([]string, error)
}

// PermissionSource lists what a user may do, as "<resource>#<action>"
// strings (e.g. "invoice:*#read"), for the optional permissions claim of
// clients with Client.PermissionsClaim. authz.Service satisfies it. It is
// called at token issuance and on userinfo, and only for those clients.
type PermissionSource interface {
	PermissionsFor(ctx context.Context, userID string) ([]string, error)
}

// AuditLog records security events inside the caller's transaction.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides API access (the authz module implements it).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// ResourceLookup finds a registered API by its identifier (RFC 8707);
// resources.Service satisfies it. An unknown one is resources.ErrNotFound.
type ResourceLookup interface {
	ByIdentifier(ctx context.Context, identifier string) (resources.Resource, error)
}

// APIKeyAuthenticator verifies an API key presented as the subject token of
// a token exchange (apikeys.Service satisfies it). A key that is unknown,
// revoked or expired, or whose owner is disabled, wraps
// httpserver.ErrUnauthenticated; anything else is a fault.
type APIKeyAuthenticator interface {
	AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error)
}

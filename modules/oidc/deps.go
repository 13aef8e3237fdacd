package oidc

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/provider"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
)

// UserDirectory is what the module needs from identity: the provider's
// look-ups (UserByID, RolesOf: claims, userinfo) and the sign-in pages'
// (VerifyPassword, UserByID). identity.Service satisfies it.
type UserDirectory interface {
	provider.UserDirectory
	signin.Directory
}

// AuditLog records security events inside the caller's transaction;
// audit.Service satisfies it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides access to /api/v1/clients and /api/v1/signing-keys
// (the authz module's Can).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// PermissionSource feeds the optional permissions claim of clients that
// ask for it (authz.Service satisfies it); see provider.PermissionSource.
type PermissionSource interface {
	PermissionsFor(ctx context.Context, userID string) ([]string, error)
}

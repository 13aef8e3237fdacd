package authz

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/audit"
)

// RoleSource answers who has which role. The identity module owns role
// membership; authz asks at decision time (through a short cache) so that a
// revoked role takes effect within the cache TTL, or at once when identity
// notifies UserChanged.
type RoleSource interface {
	// RolesOf returns the names of the roles assigned to the user.
	RolesOf(ctx context.Context, userID string) ([]string, error)
	// RoleExists reports whether a role of that name exists (policy
	// subjects "role:<name>" and inheritance edges are validated with it).
	RoleExists(ctx context.Context, name string) (bool, error)
}

// AuditLog records security events inside the caller's transaction.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

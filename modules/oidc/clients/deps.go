package clients

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// AuditLog records client changes inside the caller's transaction;
// audit.Service satisfies it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides access to /api/v1/clients (the authz module's Can).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// DeleteListener ends what a deleted client was granted (the provider
// revokes its refresh tokens). It runs inside the delete's transaction, so
// the client and its grants go together or not at all.
type DeleteListener interface {
	ClientDeleted(ctx context.Context, clientID string) error
}

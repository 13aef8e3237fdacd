package clients

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// AuditLog records client changes (client.create, client.update,
// client.delete, client.secret.rotate) inside the change's transaction;
// audit.Service satisfies it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// DeleteListener ends what a deleted client was granted (the provider
// revokes its refresh tokens). It runs inside the delete's transaction, so
// the client and its grants go together or not at all.
type DeleteListener interface {
	ClientDeleted(ctx context.Context, clientID string) error
}

// Authorizer decides access to /api/v1/clients: clients:create, read,
// update, delete and rotate (the authz module's Can).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

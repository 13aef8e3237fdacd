package passkeys

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// UserDirectory is what this module needs of the identity module
// (implemented by *identity.Service). UserByID must return an error wrapping
// identity.ErrNotFound for an unknown id.
type UserDirectory interface {
	UserByID(ctx context.Context, id string) (identity.User, error)
}

// AuditLog records security events; Record joins the transaction in ctx.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

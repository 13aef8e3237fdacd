package apikeys

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// Users is what this module needs of the identity module (implemented by
// *identity.Service). UserByID must return an error wrapping
// identity.ErrNotFound for an unknown id.
type Users interface {
	UserByID(ctx context.Context, id string) (identity.User, error)
	UserByEmail(ctx context.Context, email string) (identity.User, error)
	CreateUser(ctx context.Context, u identity.NewUser) (identity.User, error)
}

// AuditLog records security events; Record joins the transaction in ctx.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides whether p may perform action on res (the authz module).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// Notifier mails a user a security notice, queued in the transaction in ctx
// so it is sent exactly when the change commits (implemented by
// mail.Service). Optional: nil means no notices.
type Notifier interface {
	Notify(ctx context.Context, template, to string, vars map[string]string) error
}

// noticeTemplate is the mail module's security-notice template; its one
// variable, "detail", is the sentence saying what happened.
const noticeTemplate = "notice"

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

// Notifier mails a user a security notice, queued in the transaction in ctx
// so it is sent exactly when the change commits (implemented by
// mail.Service). Optional: nil means no notices.
type Notifier interface {
	Notify(ctx context.Context, template, to string, vars map[string]string) error
}

// noticeTemplate is the mail module's security-notice template; its one
// variable, "detail", is the sentence saying what happened.
const noticeTemplate = "notice"

// notify mails user the notice detail in the transaction in ctx; nothing
// without a Notifier.
func (s *Service) notify(ctx context.Context, user identity.User, detail string) error {
	if s.notifier == nil || user.Machine || user.Email == "" {
		return nil
	}
	return s.notifier.Notify(ctx, noticeTemplate, user.Email, map[string]string{"detail": detail})
}

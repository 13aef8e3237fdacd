package identity

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// AuditLog records security events; Record joins the transaction in ctx.
// Implemented by audit.Service.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides whether p may perform action on res. Implemented by the
// authz module; the HTTP handlers call it explicitly before every operation.
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// Grants answers the no-escalation questions (CONTRACT, Admin REST API): a
// principal may give a role only when it holds every right the role grants
// (inherited ones included), and may change another user's password, email
// or status, or delete them, only when it holds every right that user holds;
// taking a role away gives back what its deny rules withheld, so that too
// needs those rights. Answered on effective rights, never on role names.
// Implemented by the authz module.
type Grants interface {
	CoversRole(ctx context.Context, p principal.Principal, role string) (bool, error)
	CoversRoleRemoval(ctx context.Context, p principal.Principal, role string) (bool, error)
	CoversUser(ctx context.Context, p principal.Principal, userID string) (bool, error)
}

// Listener is told, inside the transaction of the change, when a user's
// status, roles or password changed, or the user was deleted, so other
// modules can revoke sessions, tokens and keys atomically with it. An error
// rolls the change back.
type Listener interface {
	UserChanged(ctx context.Context, userID string) error
	UserDeleted(ctx context.Context, userID string) error
}

// RoleListener is told, inside the transaction, that a role was deleted, so
// rules that name it (authz policies) go with it and cannot come back to life
// when a role of the same name is created later. Register with
// AddRoleListener.
type RoleListener interface {
	RoleDeleted(ctx context.Context, name string) error
}

// PasswordListener is told, inside the transaction, that a user's password
// was set, so their other sessions end and their refresh tokens are revoked
// (ASVS 3.3.3). keepSessionID is the caller's own browser session when the
// user changed their own password from one ("" otherwise). Register with
// AddPasswordListener.
type PasswordListener interface {
	PasswordChanged(ctx context.Context, userID, keepSessionID string) error
}

// PageRenderer renders an HTML page (web.Renderer).
type PageRenderer interface {
	HTML(c echo.Context, status int, name string, data any) error
}

// Mailer renders a mail template for one recipient and queues it in the
// transaction in ctx, so it is sent exactly when the change commits.
// Delivers is false without a mail server (the links are then only
// logged). Implemented by mail.Service; templates and vars are the mail
// module's.
type Mailer interface {
	Notify(ctx context.Context, template, to string, vars map[string]string) error
	Delivers() bool
}

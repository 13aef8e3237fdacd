package admin

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/provider"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// The console owns no data: every page reads and every action writes
// through the same service call the /api/v1 handler makes, so the audit
// events, validation and no-escalation rules are the API's. Each interface
// below is what the console calls, nothing more (ARCHITECTURE: the consumer
// owns the interface).

// Users is the identity module's user directory (identity.Service).
type Users interface {
	ListUsers(ctx context.Context, f identity.UserFilter) (identity.UserPage, error)
	UserByID(ctx context.Context, id string) (identity.User, error)
	CreateUser(ctx context.Context, in identity.NewUser) (identity.User, error)
	UpdateUser(ctx context.Context, id string, upd identity.UserUpdate) (identity.User, error)
	DeleteUser(ctx context.Context, id string) error
	SetPassword(ctx context.Context, id, password string) error
	AssignRole(ctx context.Context, userID, role string) (identity.User, error)
	UnassignRole(ctx context.Context, userID, role string) (identity.User, error)
}

// EmailLinks mails a user a link to set a password (identity.Service): an
// invitation (again, for a user without one; the earlier link stops
// working) or a password reset. Each returns the link only when no mail
// server delivers it.
type EmailLinks interface {
	InviteUser(ctx context.Context, in identity.NewUser) (identity.Invitation, error)
	SendPasswordReset(ctx context.Context, id string) (string, error)
}

// MailStats is the mail outbox's backlog and the worker's counters, for
// the overview (mail.Service).
type MailStats interface {
	Stats(ctx context.Context) (mail.Stats, error)
}

// Roles is the identity module's role catalogue (identity.Service).
type Roles interface {
	Roles(ctx context.Context) ([]identity.Role, error)
	RoleByName(ctx context.Context, name string) (identity.Role, error)
	UpdateRole(ctx context.Context, name string, upd identity.RoleUpdate) (identity.Role, error)
	CreateRole(ctx context.Context, r identity.Role) (identity.Role, error)
	DeleteRole(ctx context.Context, name string) error
}

// Authorizer decides every page and action (authz.Service), exactly as the
// API handlers ask it.
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// Grants answers the no-escalation questions the API asks before a role
// grant, a change to another user, or a policy change (authz.Service).
type Grants interface {
	CoversRole(ctx context.Context, p principal.Principal, role string) (bool, error)
	CoversRoleRemoval(ctx context.Context, p principal.Principal, role string) (bool, error)
	CoversUser(ctx context.Context, p principal.Principal, userID string) (bool, error)
	CoversRule(ctx context.Context, p principal.Principal, rule authz.Rule) (bool, error)
	CoversRemoval(ctx context.Context, p principal.Principal, rule authz.Rule) (bool, error)
}

// Policies are the authz module's rules and decisions (authz.Service).
type Policies interface {
	ListPolicies(ctx context.Context, f authz.PolicyFilter) (authz.PolicyPage, error)
	GetPolicy(ctx context.Context, id string) (authz.Policy, error)
	CreatePolicy(ctx context.Context, r authz.Rule) (authz.Policy, error)
	UpdatePolicy(ctx context.Context, id string, r authz.Rule) (authz.Policy, error)
	DeletePolicy(ctx context.Context, id string) error
	Evaluate(ctx context.Context, req authz.EvalRequest) (authz.Decision, error)
	RoleParents(ctx context.Context, role string) ([]authz.RoleParent, error)
	AddRoleParent(ctx context.Context, role, parent string) error
	RemoveRoleParent(ctx context.Context, role, parent string) error
}

// Clients is the OAuth client registry (oidc clients.Service).
type Clients interface {
	List(ctx context.Context, pageSize int, pageToken string) (clients.ClientPage, error)
	Get(ctx context.Context, id string) (clients.Client, error)
	Create(ctx context.Context, in clients.NewClient) (clients.Client, string, error)
	Update(ctx context.Context, id string, u clients.ClientUpdate) (clients.Client, error)
	Delete(ctx context.Context, id string) error
	RotateSecret(ctx context.Context, id string, overlap time.Duration) (string, error)
}

// APIKeys are the apikeys module's keys (apikeys.Service).
type APIKeys interface {
	List(ctx context.Context, f apikeys.Filter) (apikeys.Page, error)
	Get(ctx context.Context, id string) (apikeys.Key, error)
	Create(ctx context.Context, n apikeys.NewKey) (apikeys.Created, error)
	Revoke(ctx context.Context, id string) (apikeys.Key, error)
	CreateServiceAccount(ctx context.Context, name, email string) (identity.User, error)
}

// Sessions are a user's browser sessions (oidc.Module): listed on the
// user's page and ended there, audited as the user's own sign-out.
type Sessions interface {
	UserSessions(ctx context.Context, userID string) ([]signin.UserSession, error)
	EndUserSession(ctx context.Context, userID, sessionID string) error
	EndUserSessions(ctx context.Context, userID string) (int, error)
}

// Passkeys are a user's passkeys (passkeys.Service).
type Passkeys interface {
	List(ctx context.Context, userID string) ([]passkeys.Passkey, error)
	Remove(ctx context.Context, userID, id string) error
}

// AuditLog lists security events (audit.Service).
type AuditLog interface {
	List(ctx context.Context, f audit.Filter) (audit.Page, error)
}

// Counter counts one kind of thing for the overview, such as
// identity.Service.CountUsers.
type Counter func(ctx context.Context) (int64, error)

// Counts are the overview's numbers; a nil one is left out.
type Counts struct {
	Users, Sessions, Clients, APIKeys Counter
}

// EventCounts counts audit events per time bucket for the overview's
// sign-in charts (audit.Service).
type EventCounts interface {
	Counts(ctx context.Context, action string, start time.Time, step time.Duration, n int) ([]int64, error)
}

// Pages renders an HTML page, or one block of it for htmx (web.Renderer).
type Pages interface {
	HTML(c echo.Context, status int, name string, data any) error
	Fragment(c echo.Context, status int, name, block string, data any) error
}

// SigningKeys are the OpenID Provider's token signing keys (oidc.Module).
type SigningKeys interface {
	SigningKeys(ctx context.Context) ([]provider.SigningKey, error)
	RotateSigningKeys(ctx context.Context) error
}

package identity

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
)

// The checks every identity handler makes: permission (can), no escalation
// (guardRole, guardTarget), one's own credentials (requireCurrentPassword),
// and how service errors become problems (apiError).

// can enforces one permission; every handler calls it before acting.
func (m *identityModule) can(ctx context.Context, res principal.Resource, action string) error {
	err := httpserver.Require(ctx, m.opts.Authorizer, res, action)
	var answer huma.StatusError
	if err != nil && !errors.As(err, &answer) {
		return m.internal(ctx, err) // the authorizer failed: logged, no detail
	}
	return err
}

func userRes(id string) principal.Resource {
	return principal.Resource{Type: "users", ID: id, OwnerID: id}
}

var (
	allUsers = principal.Resource{Type: "users", ID: "*"}
	allRoles = principal.Resource{Type: "roles", ID: "*"}
)

func (m *identityModule) internal(ctx context.Context, err error) error {
	m.log.ErrorContext(ctx, "identity API", slog.String("error", err.Error()))
	return huma.Error500InternalServerError("internal error; the request id is in the X-Request-Id header")
}

// apiError maps service errors to problem responses. rolesIn says where an
// unknown role came from ("body.roles" → 422; "" → 404 for a path).
func (m *identityModule) apiError(ctx context.Context, err error, rolesIn string) error {
	if ve, ok := validation.As(err); ok && rolesIn == "query" && !strings.Contains(ve.Field, ".") {
		err = &validation.Error{Field: "query." + ve.Field, Message: ve.Message}
	}
	if p, ok := httpserver.InputProblem(err); ok {
		return p
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRoleNotFound) && rolesIn == "body.roles":
		return huma.Error422UnprocessableEntity("unknown role", &huma.ErrorDetail{Location: "body.roles", Message: err.Error()})
	case errors.Is(err, ErrRoleNotFound):
		return huma.Error404NotFound("role not found")
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("user not found")
	case errors.Is(err, ErrEmailTaken):
		return huma.Error409Conflict("a user with this email already exists", &huma.ErrorDetail{Location: "body.email", Message: "is already in use"})
	case errors.Is(err, ErrUsernameTaken):
		return huma.Error409Conflict("a user with this username already exists", &huma.ErrorDetail{Location: "body.username", Message: "is already in use"})
	case errors.Is(err, ErrRoleExists):
		return huma.Error409Conflict("a role with this name already exists", &huma.ErrorDetail{Location: "body.name", Message: "is already in use"})
	case errors.Is(err, ErrBuiltInRole):
		return huma.Error409Conflict("built-in roles (admin, user-admin, auditor) cannot be deleted")
	case errors.Is(err, ErrLastAdmin):
		return huma.Error409Conflict("this is the last active admin: it cannot be disabled, deleted or lose the admin role")
	case errors.Is(err, ErrMachinePassword):
		return huma.Error422UnprocessableEntity("service accounts cannot have a password", &huma.ErrorDetail{Location: "body.password", Message: "service accounts cannot have a password"})
	case errors.Is(err, context.Canceled):
		return huma.NewError(499, "request canceled")
	}
	return m.internal(ctx, err)
}

// errNoGrants: the module was built without Grants; escalation cannot be
// ruled out, so the operation fails closed.
var errNoGrants = errors.New("identity: no Grants wired (no-escalation check unavailable)")

// guardTarget enforces no escalation through someone else's account:
// changing, re-keying, disabling or deleting another user needs every right
// that user holds (their roles, inheritance and user:<id> rules), not merely
// the right to manage users. One's own account is not guarded here (its
// credentials need current_password).
func (m *identityModule) guardTarget(ctx context.Context, id string) error {
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	if p.IsUser() && p.ID == id {
		return nil
	}
	if m.opts.Grants == nil {
		return m.internal(ctx, errNoGrants)
	}
	covered, err := m.opts.Grants.CoversUser(ctx, p, id)
	if err != nil {
		return m.internal(ctx, err)
	}
	if !covered {
		return huma.Error403Forbidden("you may not change user " + id + ": they hold rights you do not hold")
	}
	return nil
}

// guardRole enforces no escalation through a role grant: giving role needs
// every right it grants, its parents' included.
func (m *identityModule) guardRole(ctx context.Context, role string) error {
	return m.guardRoleChange(ctx, role, Grants.CoversRole,
		"you may not grant role "+role+": it carries rights you do not hold")
}

// guardRoleRemoval enforces no escalation when a role is taken away: the
// role's deny rules withheld rights from the user, which they get back.
func (m *identityModule) guardRoleRemoval(ctx context.Context, role string) error {
	return m.guardRoleChange(ctx, role, Grants.CoversRoleRemoval,
		"you may not take role "+role+" away: its deny rules withhold rights you do not hold")
}

// guardRoleChange answers 403 with refusal unless covers says the caller
// holds what giving or taking role changes.
func (m *identityModule) guardRoleChange(ctx context.Context, role string,
	covers func(Grants, context.Context, principal.Principal, string) (bool, error), refusal string) error {
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	if m.opts.Grants == nil {
		return m.internal(ctx, errNoGrants)
	}
	covered, err := covers(m.opts.Grants, ctx, p, role)
	if err != nil {
		return m.internal(ctx, err)
	}
	if !covered {
		return huma.Error403Forbidden(refusal)
	}
	return nil
}

// requireCurrentPassword guards one's own credentials (ASVS 2.1.6): changing
// one's own password or email needs the current password, so a stolen API key
// or session cannot take the account over. Changing another user's
// credentials is decided by authorization instead. A user without a password
// (passkey or invitation only) cannot change these through the API.
func (m *identityModule) requireCurrentPassword(ctx context.Context, userID, current, what string) error {
	p, _ := principal.From(ctx)
	if !p.IsUser() || p.ID != userID {
		return nil
	}
	if current == "" {
		return huma.Error403Forbidden("changing your own "+what+" requires current_password",
			&huma.ErrorDetail{Location: "body.current_password", Message: "is required"})
	}
	err := m.svc.CheckCurrentPassword(ctx, userID, current)
	if errors.Is(err, ErrInvalidCredentials) {
		return huma.Error403Forbidden("current_password is not correct",
			&huma.ErrorDetail{Location: "body.current_password", Message: "is not correct"})
	}
	if err != nil {
		return m.internal(ctx, err)
	}
	return nil
}

// mayCreateWithRoles is what creating (or inviting) a user with roles needs:
// users:create, and for each role the right to assign it and every right it
// grants (no escalation). It returns the roles cleaned.
func (m *identityModule) mayCreateWithRoles(ctx context.Context, names []string) ([]string, error) {
	if err := m.can(ctx, allUsers, "create"); err != nil {
		return nil, err
	}
	roles, err := cleanRoles(names)
	if err != nil {
		return nil, m.apiError(ctx, err, "body.roles")
	}
	for _, r := range roles {
		if err := m.can(ctx, roleRes(r), "assign"); err != nil {
			return nil, err
		}
		if err := m.guardRole(ctx, r); err != nil {
			return nil, err
		}
	}
	return roles, nil
}

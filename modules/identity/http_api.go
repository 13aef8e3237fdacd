package identity

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// userJSON is the contract's user shape.
type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Username      string    `json:"username"`
	Name          string    `json:"name"`
	Status        string    `json:"status" enum:"active,disabled"`
	EmailVerified bool      `json:"email_verified"`
	Roles         []string  `json:"roles"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toUserJSON(u User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{
		ID: u.ID, Email: u.Email, Username: u.Username, Name: u.Name, Status: u.Status,
		EmailVerified: u.EmailVerified, Roles: roles, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type roleJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func toRoleJSON(r Role) roleJSON { return roleJSON{Name: r.Name, Description: r.Description} }

type userOutput struct{ Body userJSON }
type roleOutput struct{ Body roleJSON }

// createUserBody is decoded and schema-checked by huma (unknown fields are
// rejected); the service checks the rest and names the field it rejects.
type createUserBody struct {
	Email         string   `json:"email" maxLength:"254" doc:"Email address; unique, compared case-insensitively."`
	Name          string   `json:"name,omitempty" maxLength:"200" doc:"Display name."`
	Username      string   `json:"username,omitempty" maxLength:"64" doc:"Optional unique username."`
	Password      string   `json:"password,omitempty" maxLength:"1024" doc:"Optional password (8-256 characters, not a common one)."`
	Roles         []string `json:"roles,omitempty" maxItems:"50" doc:"Role names to assign."`
	Machine       bool     `json:"machine,omitempty" doc:"A service account: no password, API keys only."`
	EmailVerified bool     `json:"email_verified,omitempty"`
}

type createUserInput struct{ Body createUserBody }

type patchUserBody struct {
	Name          *string `json:"name,omitempty" maxLength:"200"`
	Username      *string `json:"username,omitempty" maxLength:"64" doc:"Empty removes the username."`
	Email         *string `json:"email,omitempty" maxLength:"254" doc:"Changing it clears email_verified unless given too."`
	Status        *string `json:"status,omitempty" enum:"active,disabled"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
	// CurrentPassword proves the caller is the account's owner, not a
	// stolen key or session: required to change one's own email.
	CurrentPassword string `json:"current_password,omitempty" maxLength:"1024" doc:"Required to change your own email."`
}

type userIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type patchUserInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body patchUserBody
}

type setPasswordInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Password        string `json:"password" maxLength:"1024"`
		CurrentPassword string `json:"current_password,omitempty" maxLength:"1024" doc:"Required to change your own password."`
	}
}

type userRoleInput struct {
	ID   string `path:"id" maxLength:"64"`
	Role string `path:"role" maxLength:"64"`
}

type listUsersInput struct {
	Q      string `query:"q" maxLength:"254" doc:"Prefix of the email or the name."`
	Role   string `query:"role" maxLength:"64"`
	Status string `query:"status" enum:"active,disabled,"`
	page.Query
}

type listUsersOutput struct {
	Body page.Page[userJSON]
}

type roleNameInput struct {
	Name string `path:"name" maxLength:"64"`
}

type createRoleInput struct {
	Body struct {
		Name        string `json:"name" maxLength:"64"`
		Description string `json:"description,omitempty" maxLength:"500"`
	}
}

type patchRoleInput struct {
	Name string `path:"name" maxLength:"64"`
	Body struct {
		Description *string `json:"description,omitempty" maxLength:"500"`
	}
}

type listRolesOutput struct {
	Body page.Page[roleJSON]
}

const (
	smallBody = 4 << 10
	userBody  = 16 << 10
)

func (m *identityModule) mountAPI(api huma.API) {
	tags := []string{"users"}
	huma.Register(api, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/users",
		Summary: "Create a user", Tags: tags, DefaultStatus: http.StatusCreated, MaxBodyBytes: userBody}, m.createUser)
	huma.Register(api, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/users",
		Summary: "List users", Tags: tags}, m.listUsers)
	huma.Register(api, huma.Operation{OperationID: "get-user", Method: http.MethodGet, Path: "/users/{id}",
		Summary: "Get a user", Tags: tags}, m.getUser)
	huma.Register(api, huma.Operation{OperationID: "update-user", Method: http.MethodPatch, Path: "/users/{id}",
		Summary: "Update a user", Tags: tags, MaxBodyBytes: userBody}, m.patchUser)
	huma.Register(api, huma.Operation{OperationID: "delete-user", Method: http.MethodDelete, Path: "/users/{id}",
		Summary: "Delete a user", Tags: tags, DefaultStatus: http.StatusNoContent}, m.deleteUser)
	huma.Register(api, huma.Operation{OperationID: "set-user-password", Method: http.MethodPut, Path: "/users/{id}/password",
		Summary: "Set a user's password", Tags: tags, DefaultStatus: http.StatusNoContent, MaxBodyBytes: smallBody}, m.setPassword)
	huma.Register(api, huma.Operation{OperationID: "assign-user-role", Method: http.MethodPut, Path: "/users/{id}/roles/{role}",
		Summary: "Give a user a role", Tags: tags}, m.assignRole)
	huma.Register(api, huma.Operation{OperationID: "unassign-user-role", Method: http.MethodDelete, Path: "/users/{id}/roles/{role}",
		Summary: "Take a role from a user", Tags: tags}, m.unassignRole)
	m.mountEmailAPI(api)

	rtags := []string{"roles"}
	huma.Register(api, huma.Operation{OperationID: "create-role", Method: http.MethodPost, Path: "/roles",
		Summary: "Create a role", Tags: rtags, DefaultStatus: http.StatusCreated, MaxBodyBytes: smallBody}, m.createRole)
	huma.Register(api, huma.Operation{OperationID: "list-roles", Method: http.MethodGet, Path: "/roles",
		Summary: "List roles", Tags: rtags}, m.listRoles)
	huma.Register(api, huma.Operation{OperationID: "get-role", Method: http.MethodGet, Path: "/roles/{name}",
		Summary: "Get a role", Tags: rtags}, m.getRole)
	huma.Register(api, huma.Operation{OperationID: "update-role", Method: http.MethodPatch, Path: "/roles/{name}",
		Summary: "Update a role", Tags: rtags, MaxBodyBytes: smallBody}, m.patchRole)
	huma.Register(api, huma.Operation{OperationID: "delete-role", Method: http.MethodDelete, Path: "/roles/{name}",
		Summary: "Delete a role", Tags: rtags, DefaultStatus: http.StatusNoContent}, m.deleteRole)
}

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

func roleRes(name string) principal.Resource { return principal.Resource{Type: "roles", ID: name} }

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
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	if m.opts.Grants == nil {
		return m.internal(ctx, errNoGrants)
	}
	covered, err := m.opts.Grants.CoversRole(ctx, p, role)
	if err != nil {
		return m.internal(ctx, err)
	}
	if !covered {
		return huma.Error403Forbidden("you may not grant role " + role + ": it carries rights you do not hold")
	}
	return nil
}

func (m *identityModule) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	roles, err := m.mayCreateWithRoles(ctx, in.Body.Roles)
	if err != nil {
		return nil, err
	}
	u, err := m.svc.CreateUser(ctx, NewUser{
		Email: in.Body.Email, Name: in.Body.Name, Username: in.Body.Username, Password: in.Body.Password,
		Roles: roles, Machine: in.Body.Machine, EmailVerified: in.Body.EmailVerified,
	})
	if err != nil {
		return nil, m.apiError(ctx, err, "body.roles")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

func (m *identityModule) listUsers(ctx context.Context, in *listUsersInput) (*listUsersOutput, error) {
	if err := m.can(ctx, allUsers, "read"); err != nil {
		return nil, err
	}
	users, err := m.svc.ListUsers(ctx, UserFilter{Query: in.Q, Role: in.Role, Status: in.Status, PageSize: in.PageSize, PageToken: in.PageToken})
	if err != nil {
		return nil, m.apiError(ctx, err, "query")
	}
	return &listUsersOutput{Body: page.Map(users, toUserJSON)}, nil
}

func (m *identityModule) getUser(ctx context.Context, in *userIDInput) (*userOutput, error) {
	if err := m.can(ctx, userRes(in.ID), "read"); err != nil {
		return nil, err
	}
	u, err := m.svc.UserByID(ctx, in.ID)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

func (m *identityModule) patchUser(ctx context.Context, in *patchUserInput) (*userOutput, error) {
	// Profile fields are self-service; status and email_verified are not:
	// those need the right to update the user as such, not as its owner.
	if err := m.can(ctx, userRes(in.ID), "update"); err != nil {
		return nil, err
	}
	if err := m.guardTarget(ctx, in.ID); err != nil {
		return nil, err
	}
	b := in.Body
	if b.Email != nil {
		if err := m.requireCurrentPassword(ctx, in.ID, b.CurrentPassword, "email"); err != nil {
			return nil, err
		}
		// One's own new address takes effect when the link mailed to it is
		// used (CONTRACT "Email"); an administrator's change at once.
		if p, _ := principal.From(ctx); p.IsUser() && p.ID == in.ID && m.svc.mailer != nil {
			if err := m.svc.RequestEmailChange(ctx, in.ID, *b.Email); err != nil {
				return nil, m.apiError(ctx, err, "")
			}
			b.Email = nil
		}
	}
	if b.Status != nil || b.EmailVerified != nil {
		if err := m.can(ctx, principal.Resource{Type: "users", ID: in.ID}, "update"); err != nil {
			return nil, err
		}
	}
	u, err := m.svc.UpdateUser(ctx, in.ID, UserUpdate{Email: b.Email, Name: b.Name, Username: b.Username, Status: b.Status, EmailVerified: b.EmailVerified})
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

func (m *identityModule) deleteUser(ctx context.Context, in *userIDInput) (*struct{}, error) {
	if err := m.can(ctx, principal.Resource{Type: "users", ID: in.ID}, "delete"); err != nil {
		return nil, err
	}
	if err := m.guardTarget(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := m.svc.DeleteUser(ctx, in.ID); err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return nil, nil
}

func (m *identityModule) setPassword(ctx context.Context, in *setPasswordInput) (*struct{}, error) {
	if err := m.can(ctx, userRes(in.ID), "update"); err != nil {
		return nil, err
	}
	if err := m.guardTarget(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := m.requireCurrentPassword(ctx, in.ID, in.Body.CurrentPassword, "password"); err != nil {
		return nil, err
	}
	if err := m.svc.SetPassword(ctx, in.ID, in.Body.Password); err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return nil, nil
}

func (m *identityModule) assignRole(ctx context.Context, in *userRoleInput) (*userOutput, error) {
	if err := m.can(ctx, roleRes(in.Role), "assign"); err != nil {
		return nil, err
	}
	if err := m.guardRole(ctx, in.Role); err != nil {
		return nil, err
	}
	u, err := m.svc.AssignRole(ctx, in.ID, in.Role)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

func (m *identityModule) unassignRole(ctx context.Context, in *userRoleInput) (*userOutput, error) {
	if err := m.can(ctx, roleRes(in.Role), "assign"); err != nil {
		return nil, err
	}
	u, err := m.svc.UnassignRole(ctx, in.ID, in.Role)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

func (m *identityModule) createRole(ctx context.Context, in *createRoleInput) (*roleOutput, error) {
	if err := m.can(ctx, allRoles, "create"); err != nil {
		return nil, err
	}
	r, err := m.svc.CreateRole(ctx, Role{Name: in.Body.Name, Description: in.Body.Description})
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &roleOutput{Body: toRoleJSON(r)}, nil
}

func (m *identityModule) listRoles(ctx context.Context, _ *struct{}) (*listRolesOutput, error) {
	if err := m.can(ctx, allRoles, "read"); err != nil {
		return nil, err
	}
	roles, err := m.svc.Roles(ctx)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &listRolesOutput{Body: page.Map(page.Page[Role]{Items: roles}, toRoleJSON)}, nil
}

func (m *identityModule) getRole(ctx context.Context, in *roleNameInput) (*roleOutput, error) {
	if err := m.can(ctx, roleRes(in.Name), "read"); err != nil {
		return nil, err
	}
	r, err := m.svc.RoleByName(ctx, in.Name)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &roleOutput{Body: toRoleJSON(r)}, nil
}

func (m *identityModule) patchRole(ctx context.Context, in *patchRoleInput) (*roleOutput, error) {
	if err := m.can(ctx, roleRes(in.Name), "update"); err != nil {
		return nil, err
	}
	r, err := m.svc.UpdateRole(ctx, in.Name, RoleUpdate{Description: in.Body.Description})
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &roleOutput{Body: toRoleJSON(r)}, nil
}

func (m *identityModule) deleteRole(ctx context.Context, in *roleNameInput) (*struct{}, error) {
	if err := m.can(ctx, roleRes(in.Name), "delete"); err != nil {
		return nil, err
	}
	if err := m.svc.DeleteRole(ctx, in.Name); err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return nil, nil
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

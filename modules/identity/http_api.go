package identity

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/page"
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

type userOutput struct{ Body userJSON }

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
	Sort   string `query:"sort" enum:"created,email,name," doc:"Order: created (the default), email or name."`
	page.Query
}

type listUsersOutput struct {
	Body page.Page[userJSON]
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
	users, err := m.svc.ListUsers(ctx, UserFilter{Query: in.Q, Role: in.Role, Status: in.Status, Sort: in.Sort,
		PageSize: in.PageSize, PageToken: in.PageToken})
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
	if err := m.guardRoleRemoval(ctx, in.Role); err != nil {
		return nil, err
	}
	u, err := m.svc.UnassignRole(ctx, in.ID, in.Role)
	if err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return &userOutput{Body: toUserJSON(u)}, nil
}

package identity

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// The roles API: /api/v1/roles (users' role assignments are in http_api.go).

type roleJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func toRoleJSON(r Role) roleJSON { return roleJSON{Name: r.Name, Description: r.Description} }

type roleOutput struct{ Body roleJSON }

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

func roleRes(name string) principal.Resource { return principal.Resource{Type: "roles", ID: name} }

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

package identity

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Roles returns every role, sorted by name.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	roles, err := s.st.listRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: list roles: %w", err)
	}
	return roles, nil
}

// RoleByName returns the role, or ErrRoleNotFound.
func (s *Service) RoleByName(ctx context.Context, name string) (Role, error) {
	row, err := s.st.role(ctx, name)
	if err != nil {
		return Role{}, fmt.Errorf("identity: role %q: %w", name, err)
	}
	return row.toRole(), nil
}

// CreateRole adds a role. Errors: *validation.Error, ErrRoleExists.
func (s *Service) CreateRole(ctx context.Context, r Role) (Role, error) {
	if err := CheckRoleName(r.Name); err != nil {
		return Role{}, err
	}
	desc, err := checkDescription(r.Description)
	if err != nil {
		return Role{}, err
	}
	now := s.now()
	row := roleRow{Name: r.Name, Description: desc, CreatedAt: now, UpdatedAt: now}
	err = s.tx(ctx, func(ctx context.Context) error {
		exists, err := s.RoleExists(ctx, r.Name)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("identity: role %q: %w", r.Name, ErrRoleExists)
		}
		if err := s.st.conn(ctx).Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("identity: role %q: %w", r.Name, ErrRoleExists)
			}
			return fmt.Errorf("identity: create role: %w", err)
		}
		return s.record(ctx, "role.create", "role", r.Name, nil)
	})
	if err != nil {
		return Role{}, err
	}
	return row.toRole(), nil
}

// UpdateRole changes a role's description. Errors: ErrRoleNotFound,
// *validation.Error.
func (s *Service) UpdateRole(ctx context.Context, name string, upd RoleUpdate) (Role, error) {
	var out Role
	err := s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.role(ctx, name)
		if err != nil {
			return fmt.Errorf("identity: role %q: %w", name, err)
		}
		if upd.Description != nil {
			desc, err := checkDescription(*upd.Description)
			if err != nil {
				return err
			}
			if desc != row.Description {
				row.Description, row.UpdatedAt = desc, s.now()
				if err := s.st.conn(ctx).Model(&roleRow{}).Where("name = ?", name).
					Updates(map[string]any{"description": desc, "updated_at": row.UpdatedAt}).Error; err != nil {
					return fmt.Errorf("identity: update role: %w", err)
				}
				if err := s.record(ctx, "role.update", "role", name, map[string]string{"fields": "description"}); err != nil {
					return err
				}
			}
		}
		out = row.toRole()
		return nil
	})
	return out, err
}

// DeleteRole removes a role and every membership in it; members' listeners
// are told their roles changed. Errors: ErrRoleNotFound, ErrBuiltInRole.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	return s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.role(ctx, name)
		if err != nil {
			return fmt.Errorf("identity: role %q: %w", name, err)
		}
		if row.BuiltIn {
			return fmt.Errorf("identity: role %q: %w", name, ErrBuiltInRole)
		}
		members, err := s.st.membersOf(ctx, name)
		if err != nil {
			return err
		}
		if err := s.st.conn(ctx).Where("role_name = ?", name).Delete(&userRoleRow{}).Error; err != nil {
			return fmt.Errorf("identity: delete role memberships: %w", err)
		}
		if err := s.st.conn(ctx).Where("name = ?", name).Delete(&roleRow{}).Error; err != nil {
			return fmt.Errorf("identity: delete role: %w", err)
		}
		if err := s.record(ctx, "role.delete", "role", name, nil); err != nil {
			return err
		}
		for _, id := range members {
			if err := s.changed(ctx, id); err != nil {
				return err
			}
		}
		for _, l := range s.roleListeners {
			if err := l.RoleDeleted(ctx, name); err != nil {
				return fmt.Errorf("identity: role-deleted listener: %w", err)
			}
		}
		return nil
	})
}

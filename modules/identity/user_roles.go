package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AssignRole gives the user a role; assigning a held role changes nothing.
// Errors: ErrNotFound (user), ErrRoleNotFound.
func (s *Service) AssignRole(ctx context.Context, userID, role string) (User, error) {
	return s.editMembership(ctx, userID, role, func(ctx context.Context, row *userRow, held bool) error {
		if held {
			return nil
		}
		now := s.now()
		if err := s.st.conn(ctx).Create(&userRoleRow{UserID: userID, RoleName: role, CreatedAt: now}).Error; err != nil && !errors.Is(err, gorm.ErrDuplicatedKey) {
			return fmt.Errorf("identity: assign role: %w", err)
		}
		return s.membershipChanged(ctx, row, "role.assign", role, now)
	})
}

// UnassignRole takes a role from the user; removing a role the user does not
// hold changes nothing. Errors: ErrNotFound (user), ErrRoleNotFound,
// ErrLastAdmin.
func (s *Service) UnassignRole(ctx context.Context, userID, role string) (User, error) {
	return s.editMembership(ctx, userID, role, func(ctx context.Context, row *userRow, held bool) error {
		if !held {
			return nil
		}
		if role == RoleAdmin {
			if err := s.guardLastAdmin(ctx, *row); err != nil {
				return err
			}
		}
		now := s.now()
		if err := s.st.conn(ctx).Where("user_id = ? AND role_name = ?", userID, role).Delete(&userRoleRow{}).Error; err != nil {
			return fmt.Errorf("identity: unassign role: %w", err)
		}
		return s.membershipChanged(ctx, row, "role.unassign", role, now)
	})
}

// editMembership runs change in one transaction with the user's row and
// whether they hold role (both checked to exist first), and returns the
// user with their roles after it.
func (s *Service) editMembership(ctx context.Context, userID, role string, change func(ctx context.Context, row *userRow, held bool) error) (User, error) {
	var out User
	err := s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", userID)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", userID, err)
		}
		if _, err := s.st.role(ctx, role); err != nil {
			return fmt.Errorf("identity: role %q: %w", role, err)
		}
		held, err := s.st.exists(ctx, &userRoleRow{}, "user_id = ? AND role_name = ?", userID, role)
		if err != nil {
			return err
		}
		if err := change(ctx, &row, held); err != nil {
			return err
		}
		out, err = s.st.withRoles(ctx, row)
		return err
	})
	return out, err
}

// membershipChanged finishes a role assignment or removal inside its
// transaction: the user's updated_at moves, the audit event is written and
// listeners (authz's role cache, sessions, keys) are told.
func (s *Service) membershipChanged(ctx context.Context, row *userRow, action, role string, now time.Time) error {
	if err := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).Update("updated_at", now).Error; err != nil {
		return fmt.Errorf("identity: %s: %w", action, err)
	}
	if err := s.record(ctx, action, "user", row.ID, map[string]string{"role": role}); err != nil {
		return err
	}
	if err := s.changed(ctx, row.ID); err != nil {
		return err
	}
	row.UpdatedAt = now
	return nil
}

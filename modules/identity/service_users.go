package identity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// guardLastAdmin fails with ErrLastAdmin when userID is an active admin and
// no other active admin exists. It must run inside the transaction that makes
// the change; lockAdmins makes concurrent callers take turns.
func (s *Service) guardLastAdmin(ctx context.Context, row userRow) error {
	if row.Status != StatusActive {
		return nil
	}
	isAdmin, err := s.st.exists(ctx, &userRoleRow{}, "user_id = ? AND role_name = ?", row.ID, RoleAdmin)
	if err != nil || !isAdmin {
		return err
	}
	if err := s.st.lockAdmins(ctx); err != nil {
		return fmt.Errorf("identity: lock admins: %w", err)
	}
	others, err := s.st.activeAdmins(ctx, row.ID)
	if err != nil {
		return err
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// UpdateUser applies the non-nil fields of upd. Errors: ErrNotFound,
// *validation.Error, ErrEmailTaken, ErrUsernameTaken, ErrLastAdmin (disabling
// the last active admin).
func (s *Service) UpdateUser(ctx context.Context, id string, upd UserUpdate) (User, error) {
	set := map[string]any{}
	var changed []string
	var email, emailNorm string
	var username *string
	if upd.Email != nil {
		var err error
		if email, emailNorm, err = normalizeEmail(*upd.Email); err != nil {
			return User{}, err
		}
	}
	if upd.Username != nil {
		u, err := normalizeUsername(*upd.Username)
		if err != nil {
			return User{}, err
		}
		username = &u
	}
	var name string
	if upd.Name != nil {
		var err error
		if name, err = checkName(*upd.Name); err != nil {
			return User{}, err
		}
	}
	if upd.Status != nil && *upd.Status != StatusActive && *upd.Status != StatusDisabled {
		return User{}, invalid("status", "must be active or disabled")
	}
	var out User
	err := s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", id)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", id, err)
		}
		if err := s.checkUnique(ctx, id, emailNorm, username); err != nil {
			return err
		}
		if upd.Name != nil && name != row.Name {
			set["name"], set["name_normalized"] = name, strings.ToLower(name)
			changed = append(changed, "name")
		}
		if upd.Email != nil && email != row.Email {
			set["email"], set["email_normalized"] = email, emailNorm
			changed = append(changed, "email")
			if emailNorm != row.EmailNormalized && upd.EmailVerified == nil {
				set["email_verified"] = false
			}
			if err := s.endVerifyLinks(ctx, id); err != nil {
				return err
			}
		}
		if username != nil && *username != derefOr(row.Username, "") {
			if *username == "" {
				set["username"] = nil
			} else {
				set["username"] = *username
			}
			changed = append(changed, "username")
		}
		if upd.EmailVerified != nil && *upd.EmailVerified != row.EmailVerified {
			set["email_verified"] = *upd.EmailVerified
			changed = append(changed, "email_verified")
		}
		disabling := upd.Status != nil && *upd.Status == StatusDisabled && row.Status == StatusActive
		statusChanged := upd.Status != nil && *upd.Status != row.Status
		if disabling {
			if err := s.guardLastAdmin(ctx, row); err != nil {
				return err
			}
		}
		if statusChanged {
			set["status"] = *upd.Status
		}
		if len(set) == 0 {
			out, err = s.st.withRoles(ctx, row)
			return err
		}
		set["updated_at"] = s.now()
		res := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", id).Updates(set)
		if res.Error != nil {
			if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
				return ErrEmailTaken
			}
			return fmt.Errorf("identity: update user: %w", res.Error)
		}
		if len(changed) > 0 {
			sort.Strings(changed)
			if err := s.record(ctx, "user.update", "user", id, map[string]string{"fields": strings.Join(changed, ",")}); err != nil {
				return err
			}
		}
		if statusChanged {
			action := "user.update"
			if disabling {
				action = "user.disable"
			}
			if err := s.record(ctx, action, "user", id, map[string]string{"status": *upd.Status}); err != nil {
				return err
			}
			if err := s.changed(ctx, id); err != nil {
				return err
			}
		}
		out, err = s.UserByID(ctx, id)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// DisableUser sets the user's status to disabled (see UpdateUser).
func (s *Service) DisableUser(ctx context.Context, id string) (User, error) {
	st := StatusDisabled
	return s.UpdateUser(ctx, id, UserUpdate{Status: &st})
}

// DeleteUser removes a user and their role memberships; listeners clean up
// their own rows in the same transaction. Errors: ErrNotFound, ErrLastAdmin.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	return s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", id)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", id, err)
		}
		if err := s.guardLastAdmin(ctx, row); err != nil {
			return err
		}
		if err := s.st.conn(ctx).Where("user_id = ?", id).Delete(&userRoleRow{}).Error; err != nil {
			return fmt.Errorf("identity: delete user roles: %w", err)
		}
		if err := s.st.conn(ctx).Where("id = ?", id).Delete(&userRow{}).Error; err != nil {
			return fmt.Errorf("identity: delete user: %w", err)
		}
		if err := s.record(ctx, "user.delete", "user", id, map[string]string{"email": row.Email}); err != nil {
			return err
		}
		for _, l := range s.listeners {
			if err := l.UserDeleted(ctx, id); err != nil {
				return fmt.Errorf("identity: user-deleted listener: %w", err)
			}
		}
		return nil
	})
}

// SetPassword replaces the user's password after checking the policy
// (CheckPassword). Errors: ErrNotFound, *validation.Error,
// ErrMachinePassword.
func (s *Service) SetPassword(ctx context.Context, id, password string) error {
	row, err := s.st.userBy(ctx, "id", id)
	if err != nil {
		return fmt.Errorf("identity: user %q: %w", id, err)
	}
	if row.Machine {
		return ErrMachinePassword
	}
	local, _, _ := strings.Cut(row.EmailNormalized, "@")
	if err := CheckPassword(password, row.EmailNormalized, local, derefOr(row.Username, "")); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("identity: hash password: %w", err)
	}
	return s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", id)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", id, err)
		}
		return s.storePassword(ctx, row, map[string]any{"password_hash": hash, "updated_at": s.now()}, "user.password.set")
	})
}

package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/page"
)

// Reading users and their roles: the look-ups other modules call and the
// paged list of the API and the console.

// UserByID returns the user with id, or ErrNotFound.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	row, err := s.st.userBy(ctx, "id", id)
	if err != nil {
		return User{}, fmt.Errorf("identity: user %q: %w", id, err)
	}
	return s.st.withRoles(ctx, row)
}

// UserByEmail returns the user with email (compared case-insensitively), or
// ErrNotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.st.userBy(ctx, "email_normalized", strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return User{}, fmt.Errorf("identity: user by email: %w", err)
	}
	return s.st.withRoles(ctx, row)
}

// UserByLogin returns the user whose email (when login contains '@') or
// username matches login case-insensitively, or ErrNotFound.
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	row, err := s.rowByLogin(ctx, login)
	if err != nil {
		return User{}, fmt.Errorf("identity: user by login: %w", err)
	}
	return s.st.withRoles(ctx, row)
}

func (s *Service) rowByLogin(ctx context.Context, login string) (userRow, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || len(login) > MaxEmailBytes {
		return userRow{}, ErrNotFound
	}
	if strings.Contains(login, "@") {
		return s.st.userBy(ctx, "email_normalized", login)
	}
	return s.st.userBy(ctx, "username", login)
}

// RolesOf returns the sorted role names of a user (empty for an unknown id).
func (s *Service) RolesOf(ctx context.Context, userID string) ([]string, error) {
	m, err := s.st.rolesOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("identity: roles of %q: %w", userID, err)
	}
	if m[userID] == nil {
		return []string{}, nil
	}
	return m[userID], nil
}

// RoleExists reports whether a role with name exists.
func (s *Service) RoleExists(ctx context.Context, name string) (bool, error) {
	ok, err := s.st.exists(ctx, &roleRow{}, "name = ?", name)
	if err != nil {
		return false, fmt.Errorf("identity: role exists: %w", err)
	}
	return ok, nil
}

// HasActiveAdmin reports whether any active user holds the admin role.
func (s *Service) HasActiveAdmin(ctx context.Context) (bool, error) {
	n, err := s.st.activeAdmins(ctx, "")
	return n > 0, err
}

// ListUsers returns one page of users matching f, in f.Sort's order.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) (UserPage, error) {
	var err error
	if f.PageSize, err = page.Size(f.PageSize); err != nil {
		return UserPage{}, err
	}
	if len(f.Query) > MaxQueryChars {
		return UserPage{}, invalid("q", "must be at most 254 characters long")
	}
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusDisabled {
		return UserPage{}, invalid("status", "must be active or disabled")
	}
	if f.Sort != "" && f.Sort != SortCreated && f.Sort != SortEmail && f.Sort != SortName {
		return UserPage{}, invalid("sort", "must be created, email or name")
	}
	return s.st.listUsers(ctx, f)
}

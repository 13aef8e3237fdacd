package identity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Creating a user: validation, uniqueness, the row and its roles in one
// transaction with the audit event.

// cleanRoles validates, de-duplicates and sorts role names.
func cleanRoles(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, r := range in {
		r = strings.TrimSpace(r)
		if err := CheckRoleName(r); err != nil {
			return nil, invalid("roles", fmt.Sprintf("%q is not a valid role name", r))
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// preparedUser is a validated NewUser with its password already hashed, so
// the transaction does no slow work.
type preparedUser struct {
	row   userRow
	roles []string
}

func (s *Service) prepareUser(ctx context.Context, in NewUser) (preparedUser, error) {
	email, norm, err := normalizeEmail(in.Email)
	if err != nil {
		return preparedUser{}, err
	}
	username, err := normalizeUsername(in.Username)
	if err != nil {
		return preparedUser{}, err
	}
	name, err := checkName(in.Name)
	if err != nil {
		return preparedUser{}, err
	}
	roles, err := cleanRoles(in.Roles)
	if err != nil {
		return preparedUser{}, err
	}
	var hash string
	if in.Password != "" {
		if in.Machine {
			return preparedUser{}, invalid("password", "service accounts (machine users) cannot have a password")
		}
		local, _, _ := strings.Cut(norm, "@")
		if err := CheckPassword(in.Password, norm, local, username); err != nil {
			return preparedUser{}, err
		}
		if hash, err = s.hasher.hash(ctx, in.Password); err != nil {
			return preparedUser{}, fmt.Errorf("identity: hash password: %w", err)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return preparedUser{}, err
	}
	now := s.now()
	row := userRow{
		ID: id.String(), Email: email, EmailNormalized: norm, Name: name,
		NameNormalized: strings.ToLower(name), Status: StatusActive,
		EmailVerified: in.EmailVerified, Machine: in.Machine, PasswordHash: hash,
		CreatedAt: now, UpdatedAt: now,
	}
	if username != "" {
		row.Username = &username
	}
	return preparedUser{row: row, roles: roles}, nil
}

// CreateUser validates and creates a user with its roles. Errors:
// *validation.Error (field named), ErrEmailTaken, ErrUsernameTaken,
// ErrRoleNotFound.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	p, err := s.prepareUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.tx(ctx, func(ctx context.Context) error {
		u, err = s.insertUser(ctx, p, nil)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

func (s *Service) insertUser(ctx context.Context, p preparedUser, details map[string]string) (User, error) {
	for _, r := range p.roles {
		ok, err := s.RoleExists(ctx, r)
		if err != nil {
			return User{}, err
		}
		if !ok {
			return User{}, fmt.Errorf("identity: role %q: %w", r, ErrRoleNotFound)
		}
	}
	if err := s.checkUnique(ctx, "", p.row.EmailNormalized, p.row.Username); err != nil {
		return User{}, err
	}
	if err := s.st.conn(ctx).Create(&p.row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return User{}, ErrEmailTaken
		}
		return User{}, fmt.Errorf("identity: create user: %w", err)
	}
	for _, r := range p.roles {
		if err := s.st.conn(ctx).Create(&userRoleRow{UserID: p.row.ID, RoleName: r, CreatedAt: p.row.CreatedAt}).Error; err != nil {
			return User{}, fmt.Errorf("identity: assign role %q: %w", r, err)
		}
	}
	if details == nil {
		details = map[string]string{}
	}
	if len(p.roles) > 0 {
		details["roles"] = strings.Join(p.roles, ",")
	}
	if p.row.Machine {
		details["machine"] = "true"
	}
	if err := s.record(ctx, "user.create", "user", p.row.ID, details); err != nil {
		return User{}, err
	}
	return p.row.toUser(p.roles), nil
}

// checkUnique reports ErrEmailTaken / ErrUsernameTaken when another user
// (not exceptID) has the email or username.
func (s *Service) checkUnique(ctx context.Context, exceptID, emailNorm string, username *string) error {
	if emailNorm != "" {
		taken, err := s.st.exists(ctx, &userRow{}, "email_normalized = ? AND id <> ?", emailNorm, exceptID)
		if err != nil {
			return err
		}
		if taken {
			return ErrEmailTaken
		}
	}
	if username != nil && *username != "" {
		taken, err := s.st.exists(ctx, &userRow{}, "username = ? AND id <> ?", *username, exceptID)
		if err != nil {
			return err
		}
		if taken {
			return ErrUsernameTaken
		}
	}
	return nil
}

package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// BootstrapAdmin makes sure an active admin exists at first start: when none
// does, it creates one with email and password (or, when a user with that
// email exists, activates them, gives them the admin role and sets the
// password). It does nothing when an active admin exists, so every start and
// every replica may call it; concurrent calls are serialized by the admin
// lock, and only one creates the user.
func (s *Service) BootstrapAdmin(ctx context.Context, email, password string) (u User, created bool, err error) {
	// Checked first, hashed only when an admin is to be made: every start
	// with the variables still set would otherwise spend an argon2id hash
	// (~50 ms of CPU) to find that an admin exists.
	p, err := s.prepareUser(ctx, NewUser{Email: email, Roles: []string{RoleAdmin}, EmailVerified: true})
	if err != nil {
		return User{}, false, fmt.Errorf("bootstrap admin: %w", err)
	}
	local, _, _ := strings.Cut(p.row.EmailNormalized, "@")
	if err := CheckPassword(password, p.row.EmailNormalized, local, ""); err != nil {
		return User{}, false, fmt.Errorf("bootstrap admin: %w", err)
	}
	if n, err := s.st.activeAdmins(ctx, ""); err != nil || n > 0 {
		return User{}, false, err
	}
	if p.row.PasswordHash, err = s.hasher.hash(ctx, password); err != nil {
		return User{}, false, fmt.Errorf("bootstrap admin: hash password: %w", err)
	}
	err = s.tx(ctx, func(ctx context.Context) error {
		if err := s.st.lockAdmins(ctx); err != nil {
			return err
		}
		if n, err := s.st.activeAdmins(ctx, ""); err != nil || n > 0 {
			return err
		}
		existing, err := s.st.userBy(ctx, "email_normalized", p.row.EmailNormalized)
		if errors.Is(err, ErrNotFound) {
			u, err = s.insertUser(ctx, p, map[string]string{"via": "bootstrap"})
			created = err == nil
			return err
		}
		if err != nil {
			return err
		}
		if existing.Machine {
			return fmt.Errorf("bootstrap admin: %s is a service account", existing.Email)
		}
		res := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", existing.ID).Updates(map[string]any{
			"status": StatusActive, "password_hash": p.row.PasswordHash, "updated_at": s.now(),
		})
		if res.Error != nil {
			return res.Error
		}
		if _, err := s.AssignRole(ctx, existing.ID, RoleAdmin); err != nil {
			return err
		}
		if err := s.record(ctx, "user.password.set", "user", existing.ID, map[string]string{"via": "bootstrap"}); err != nil {
			return err
		}
		if err := s.changed(ctx, existing.ID); err != nil {
			return err
		}
		u, err = s.UserByID(ctx, existing.ID)
		created = err == nil
		return err
	})
	if err != nil {
		return User{}, false, err
	}
	return u, created, nil
}

func hashSetupToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSetupToken returns a one-time token for the first-start setup page
// when no active admin exists (ok false otherwise). Only its SHA-256 is
// stored; it expires after Options.SetupTokenTTL. Expired tokens are purged.
func (s *Service) CreateSetupToken(ctx context.Context) (token string, ok bool, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	err = s.tx(ctx, func(ctx context.Context) error {
		if err := s.st.lockAdmins(ctx); err != nil {
			return err
		}
		n, err := s.st.activeAdmins(ctx, "")
		if err != nil || n > 0 {
			return err
		}
		now := s.now()
		if err := s.st.conn(ctx).Where("expires_at <= ?", now).Delete(&setupTokenRow{}).Error; err != nil {
			return err
		}
		ok = true
		return s.st.conn(ctx).Create(&setupTokenRow{TokenHash: hashSetupToken(token), ExpiresAt: now.Add(s.setupTTL), CreatedAt: now}).Error
	})
	if err != nil {
		return "", false, fmt.Errorf("identity: create setup token: %w", err)
	}
	if !ok {
		return "", false, nil
	}
	return token, true, nil
}

// CheckSetupToken returns nil when token may still be used, ErrSetupDone
// when an admin exists, else ErrSetupToken.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	if n, err := s.st.activeAdmins(ctx, ""); err != nil {
		return err
	} else if n > 0 {
		return ErrSetupDone
	}
	return s.validSetupToken(ctx, token)
}

func (s *Service) validSetupToken(ctx context.Context, token string) error {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 128 {
		return ErrSetupToken
	}
	ok, err := s.st.exists(ctx, &setupTokenRow{}, "token_hash = ? AND expires_at > ?", hashSetupToken(token), s.now())
	if err != nil {
		return err
	}
	if !ok {
		return ErrSetupToken
	}
	return nil
}

// CompleteSetup creates the first admin with a valid setup token and burns
// every setup token. Errors: ErrSetupDone, ErrSetupToken, the errors of
// CreateUser.
func (s *Service) CompleteSetup(ctx context.Context, token string, in NewUser) (User, error) {
	if err := s.CheckSetupToken(ctx, token); err != nil {
		return User{}, err
	}
	if in.Password == "" {
		return User{}, invalid("password", "is required")
	}
	in.Roles, in.Machine = []string{RoleAdmin}, false
	p, err := s.prepareUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.tx(ctx, func(ctx context.Context) error {
		if err := s.st.lockAdmins(ctx); err != nil {
			return err
		}
		if n, err := s.st.activeAdmins(ctx, ""); err != nil {
			return err
		} else if n > 0 {
			return ErrSetupDone
		}
		if err := s.validSetupToken(ctx, token); err != nil {
			return err
		}
		if err := s.st.conn(ctx).Where("1 = 1").Delete(&setupTokenRow{}).Error; err != nil {
			return err
		}
		u, err = s.insertUser(ctx, p, map[string]string{"via": "setup"})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

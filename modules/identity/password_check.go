package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// Checking a password: a sign-in (VerifyPassword, with the same work for
// unknown logins) and the current password of one's own account.

// dummyPasswordHash is verified for unknown logins and users without a
// password, so they cost the same time as a wrong password.
func (s *Service) dummyPasswordHash(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		h, err := s.hasher.hash(context.WithoutCancel(ctx), hex.EncodeToString(b))
		if err == nil {
			s.dummyHash = h
		}
	})
	return s.dummyHash
}

// VerifyPassword checks a sign-in. Unknown logins, wrong passwords and users
// without a password all return ErrInvalidCredentials after the same amount
// of hashing work; ErrUserDisabled is returned only after a correct password.
// On success it records the sign-in time and upgrades a hash made with
// older parameters.
func (s *Service) VerifyPassword(ctx context.Context, login, password string) (User, error) {
	row, err := s.rowByLogin(ctx, login)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("identity: verify password: %w", err)
	}
	if err != nil || row.PasswordHash == "" || len(password) > MaxPasswordBytes {
		if _, _, herr := s.hasher.verify(ctx, password, s.dummyPasswordHash(ctx)); herr != nil && ctx.Err() != nil {
			return User{}, ctx.Err()
		}
		return User{}, ErrInvalidCredentials
	}
	ok, rehash, err := s.hasher.verify(ctx, password, row.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("identity: verify password of %s: %w", row.ID, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	if row.Status != StatusActive {
		return User{}, ErrUserDisabled
	}
	now := s.now()
	if rehash {
		if h, err := s.hasher.hash(ctx, password); err == nil {
			// Conditional on the old hash: a password set meanwhile wins.
			s.st.conn(ctx).Model(&userRow{}).Where("id = ? AND password_hash = ?", row.ID, row.PasswordHash).
				Update("password_hash", h)
		}
	}
	if err := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).Update("last_sign_in_at", now).Error; err != nil {
		return User{}, fmt.Errorf("identity: record sign-in: %w", err)
	}
	row.LastSignInAt = &now
	return s.st.withRoles(ctx, row)
}

// CheckCurrentPassword verifies password against user id's current one, for
// a change to one's own credentials. A user without a password, an unknown
// id and a wrong password all answer ErrInvalidCredentials after the same
// work (a dummy hash is verified).
func (s *Service) CheckCurrentPassword(ctx context.Context, id, password string) error {
	row, err := s.st.userBy(ctx, "id", id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("identity: check password: %w", err)
	}
	hash := row.PasswordHash
	if err != nil || hash == "" || len(password) > MaxPasswordBytes {
		hash = s.dummyPasswordHash(ctx)
	}
	ok, _, verr := s.hasher.verify(ctx, password, hash)
	if verr != nil {
		return fmt.Errorf("identity: check password: %w", verr)
	}
	if !ok || hash != row.PasswordHash {
		return ErrInvalidCredentials
	}
	return nil
}

package passkeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// handleBytes is the entropy of a ceremony handle (256 bits).
const handleBytes = 32

// maxHandleLen bounds what hashHandle accepts, so an absurd input is refused
// before it is hashed.
const maxHandleLen = 128

// newHandle returns a fresh handle (base64url) and the id under which its
// ceremony is stored (hex SHA-256 of the handle).
func newHandle() (handle, id string, err error) {
	b := make([]byte, handleBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("passkeys: random handle: %w", err)
	}
	handle = base64.RawURLEncoding.EncodeToString(b)
	return handle, hashHandle(handle), nil
}

// hashHandle is the stored id of a handle. Handles are random, so a plain
// SHA-256 is enough: the database never holds a usable handle.
func hashHandle(handle string) string {
	sum := sha256.Sum256([]byte(handle))
	return hex.EncodeToString(sum[:])
}

// saveCeremony stores the session data of a ceremony begun now and returns
// its handle. userID is "" for a usernameless sign-in.
func (s *Service) saveCeremony(ctx context.Context, kind, userID string, sd *webauthn.SessionData) (string, error) {
	handle, id, err := newHandle()
	if err != nil {
		return "", err
	}
	now := s.now()
	// The library's own expiry check uses the wall clock; ours (expires_at,
	// with the injected clock) is the one that counts.
	sd.Expires = time.Time{}
	data, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("passkeys: encode ceremony: %w", err)
	}
	row := challengeRow{
		ID: id, Kind: kind, SessionData: string(data),
		CreatedAt: now, ExpiresAt: now.Add(s.opts.ChallengeTTL),
	}
	if userID != "" {
		row.UserID = &userID
	}
	if err := s.store.insertChallenge(ctx, &row); err != nil {
		return "", err
	}
	return handle, nil
}

// ceremony is a consumed challenge.
type ceremony struct {
	id      string
	userID  string // "" for a usernameless sign-in
	session webauthn.SessionData
}

// consumeCeremony deletes the ceremony named by handle and returns it; it
// joins the transaction in ctx, so the deletion commits with the effect of a
// successful finish. It fails with ErrChallengeUnknown (never issued, used,
// or of another kind or user) or ErrChallengeExpired.
func (s *Service) consumeCeremony(ctx context.Context, handle, kind, userID string) (ceremony, error) {
	if handle == "" || len(handle) > maxHandleLen {
		return ceremony{}, ErrChallengeUnknown
	}
	row, err := s.store.takeChallenge(ctx, hashHandle(handle))
	if err != nil {
		return ceremony{}, err
	}
	owner := ""
	if row.UserID != nil {
		owner = *row.UserID
	}
	if row.Kind != kind || (kind == kindRegistration && owner != userID) {
		return ceremony{}, ErrChallengeUnknown
	}
	if !s.now().Before(row.ExpiresAt) {
		return ceremony{}, ErrChallengeExpired
	}
	c := ceremony{id: row.ID, userID: owner}
	if err := json.Unmarshal([]byte(row.SessionData), &c.session); err != nil {
		return ceremony{}, fmt.Errorf("passkeys: decode ceremony: %w", err)
	}
	return c, nil
}

// CleanUp deletes ceremonies that expired (they can no longer be finished).
// It returns how many were deleted.
func (s *Service) CleanUp(ctx context.Context) (int64, error) {
	return s.store.deleteExpiredChallenges(ctx, s.now())
}

// Run cleans up expired ceremonies every ten minutes until ctx ends (a
// background task for main's errgroup).
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := s.CleanUp(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("passkeys: clean up ceremonies", slog.Any("error", err))
			}
		}
	}
}

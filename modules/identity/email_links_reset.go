package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// ErrResetLimit: the account already got maxResets reset links in the
// last hour.
var ErrResetLimit = errors.New("identity: at most 3 password reset links per hour are sent to one account")

// RequestPasswordReset mails a reset link (valid 30 minutes) to the active
// user with email. It answers nil whether or not such a user exists, and
// for an unknown address does the same work (a message rendered and stored
// in a transaction that is then rolled back), so neither the answer nor its
// time tells them apart. At most maxResets links per account per hour. The
// link is never returned: whoever asks here has not proven who they are.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	norm := strings.ToLower(strings.TrimSpace(email))
	errDiscard := errors.New("discard")
	err := s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "email_normalized", norm)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err != nil || row.Machine || row.Status != StatusActive {
			// The same token, rendering and insert as a real request, all
			// rolled back: no account, no message.
			if _, _, perr := normalizeEmail(norm); perr != nil || s.mailer == nil {
				return errDiscard
			}
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			_ = hashSetupToken(base64.RawURLEncoding.EncodeToString(b))
			_ = s.mailer.Notify(ctx, mailReset, norm, map[string]string{
				"link": s.issuer + PathPasswordLink + "?token=" + base64.RawURLEncoding.EncodeToString(b), "expires": s.now().Format("2006-01-02 15:04 UTC")})
			return errDiscard
		}
		if _, err := s.issueReset(ctx, row); err != nil {
			if errors.Is(err, ErrResetLimit) {
				return errDiscard
			}
			return err
		}
		return nil
	})
	if errors.Is(err, errDiscard) {
		return nil
	}
	return err
}

// SendPasswordReset mails the user with id a reset link (valid 30 minutes)
// on an administrator's request (the console's "Send password reset"). It
// returns the link when the mailer does not deliver (no mail server), ""
// otherwise. Errors: ErrNotFound; ErrUserDisabled for a disabled user;
// ErrMachinePassword for a service account; ErrResetLimit.
func (s *Service) SendPasswordReset(ctx context.Context, id string) (string, error) {
	var link string
	err := s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", id)
		switch {
		case err != nil:
			return err
		case row.Machine:
			return ErrMachinePassword
		case row.Status != StatusActive:
			return ErrUserDisabled
		}
		link, err = s.issueReset(ctx, row)
		return err
	})
	if err != nil {
		return "", err
	}
	return link, nil
}

// issueReset records and issues a reset link for row, in the transaction
// in ctx; ErrResetLimit beyond maxResets in resetWindow.
func (s *Service) issueReset(ctx context.Context, row userRow) (string, error) {
	var recent int64
	if err := s.st.conn(ctx).Model(&emailTokenRow{}).Where("user_id = ? AND kind = ? AND created_at > ?",
		row.ID, LinkReset, s.now().Add(-resetWindow)).Count(&recent).Error; err != nil {
		return "", err
	}
	if recent >= maxResets {
		return "", ErrResetLimit
	}
	if err := s.record(ctx, "user.password.reset_request", "user", row.ID, nil); err != nil {
		return "", err
	}
	return s.issueLink(ctx, row, LinkReset, row.Email, mailReset, nil)
}

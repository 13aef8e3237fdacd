package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of emailed link (CONTRACT "Email"). Each is single-use, expires, and
// marks the email verified when used (when it still is the address the link
// was sent to).
const (
	LinkInvite = "invite" // set a first password; 7 days
	LinkReset  = "reset"  // set a new password; 30 minutes
	LinkVerify = "verify" // confirm an address, or an own change to it; 24 hours
)

// Paths the links open; the sign-in pages serve them.
const (
	PathPasswordLink = "/password/reset"
	PathVerifyLink   = "/email/verify"
)

// Mail templates (the mail module's names) and the most reset links one
// account gets in resetWindow.
const (
	mailInvite      = "invite"
	mailReset       = "reset"
	mailVerify      = "verify"
	mailEmailChange = "email_change"
	mailNotice      = "notice"
	maxResets       = 3
	resetWindow     = time.Hour
)

// ErrEmailLink: the link is unknown, used, expired, or of another kind.
var ErrEmailLink = errors.New("identity: this link is invalid, expired or already used")

// EmailLink is what a valid link stands for.
type EmailLink struct {
	Kind   string
	UserID string
	// SentTo is the address the link was mailed to; for LinkVerify, the
	// address that becomes the account's (verified) when the link is used.
	SentTo    string
	ExpiresAt time.Time
}

// emailTokenRow is an identity_email_tokens row; only the SHA-256 of the
// token is stored. new_email holds SentTo.
type emailTokenRow struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    string
	Kind      string
	NewEmail  string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (emailTokenRow) TableName() string { return "identity_email_tokens" }

func (s *Service) linkTTL(kind string) time.Duration {
	switch kind {
	case LinkInvite:
		return s.ttl.invite
	case LinkReset:
		return s.ttl.reset
	}
	return s.ttl.verify
}

// issueLink stores a new link of kind for user and mails it with template,
// in the transaction in ctx. Earlier unused links of the same kind stop
// working (re-sending an invitation invalidates the previous one).
func (s *Service) issueLink(ctx context.Context, row userRow, kind, sentTo, template string, vars map[string]string) error {
	if s.mailer == nil {
		return errors.New("identity: no mailer wired")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	exp := now.Add(s.linkTTL(kind))
	db := s.st.conn(ctx)
	if err := db.Model(&emailTokenRow{}).Where("user_id = ? AND kind = ? AND used_at IS NULL", row.ID, kind).
		Update("used_at", now).Error; err != nil {
		return fmt.Errorf("identity: invalidate links: %w", err)
	}
	if err := db.Create(&emailTokenRow{TokenHash: hashSetupToken(token), UserID: row.ID, Kind: kind,
		NewEmail: sentTo, ExpiresAt: exp, CreatedAt: now}).Error; err != nil {
		return fmt.Errorf("identity: store link: %w", err)
	}
	path := PathPasswordLink
	if kind == LinkVerify {
		path = PathVerifyLink
	}
	if vars == nil {
		vars = map[string]string{}
	}
	vars["link"] = s.issuer + path + "?token=" + token
	vars["expires"] = exp.Format("2006-01-02 15:04 UTC")
	return s.mailer.Notify(ctx, template, sentTo, vars)
}

// CheckEmailLink returns what a token stands for when it is valid and of
// one of kinds; ErrEmailLink otherwise.
func (s *Service) CheckEmailLink(ctx context.Context, token string, kinds ...string) (EmailLink, error) {
	row, err := s.validLink(ctx, token, kinds)
	if err != nil {
		return EmailLink{}, err
	}
	return EmailLink{Kind: row.Kind, UserID: row.UserID, SentTo: row.NewEmail, ExpiresAt: row.ExpiresAt.UTC()}, nil
}

func (s *Service) validLink(ctx context.Context, token string, kinds []string) (emailTokenRow, error) {
	var row emailTokenRow
	if token == "" || len(token) > 100 {
		return row, ErrEmailLink
	}
	err := s.st.conn(ctx).Where("token_hash = ?", hashSetupToken(token)).Take(&row).Error
	if err != nil {
		return row, notFound(err, ErrEmailLink)
	}
	ok := false
	for _, k := range kinds {
		ok = ok || row.Kind == k
	}
	if !ok || row.UsedAt != nil || !s.now().Before(row.ExpiresAt) {
		return row, ErrEmailLink
	}
	return row, nil
}

// useLink consumes a valid token inside the transaction in ctx: a
// compare-and-swap on used_at, so of two concurrent uses exactly one wins.
func (s *Service) useLink(ctx context.Context, token string, kinds ...string) (emailTokenRow, userRow, error) {
	row, err := s.validLink(ctx, token, kinds)
	if err != nil {
		return row, userRow{}, err
	}
	res := s.st.conn(ctx).Model(&emailTokenRow{}).Where("token_hash = ? AND used_at IS NULL", row.TokenHash).
		Update("used_at", s.now())
	if res.Error != nil {
		return row, userRow{}, fmt.Errorf("identity: use link: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return row, userRow{}, ErrEmailLink
	}
	user, err := s.st.userBy(ctx, "id", row.UserID)
	if err != nil {
		return row, userRow{}, notFound(err, ErrEmailLink)
	}
	return row, user, nil
}

// InviteUser creates a user without a password (or finds the one with
// in.Email who has none) and mails an invitation link valid for 7 days;
// a new invitation invalidates the previous link. Errors: those of
// CreateUser; ErrEmailTaken when the address belongs to a user who has a
// password or is a service account.
func (s *Service) InviteUser(ctx context.Context, in NewUser) (User, error) {
	in.Password = ""
	in.Machine = false
	p, err := s.prepareUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "email_normalized", p.row.EmailNormalized)
		switch {
		case errors.Is(err, ErrNotFound):
			if out, err = s.insertUser(ctx, p, map[string]string{"invited": "true"}); err != nil {
				return err
			}
			row = p.row
		case err != nil:
			return err
		case row.PasswordHash != "" || row.Machine:
			return ErrEmailTaken
		default:
			if out, err = s.st.withRoles(ctx, row); err != nil {
				return err
			}
		}
		if err := s.record(ctx, "user.invite", "user", row.ID, nil); err != nil {
			return err
		}
		return s.issueLink(ctx, row, LinkInvite, row.Email, mailInvite, map[string]string{"name": row.Name})
	})
	return out, err
}

// RequestPasswordReset mails a reset link (valid 30 minutes) to the active
// user with email. It answers nil whether or not such a user exists, and
// for an unknown address does the same work (a message rendered and stored
// in a transaction that is then rolled back), so neither the answer nor its
// time tells them apart. At most maxResets links per account per hour.
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
		var recent int64
		if err := s.st.conn(ctx).Model(&emailTokenRow{}).Where("user_id = ? AND kind = ? AND created_at > ?",
			row.ID, LinkReset, s.now().Add(-resetWindow)).Count(&recent).Error; err != nil {
			return err
		}
		if recent >= maxResets {
			return errDiscard
		}
		if err := s.record(ctx, "user.password.reset_request", "user", row.ID, nil); err != nil {
			return err
		}
		return s.issueLink(ctx, row, LinkReset, row.Email, mailReset, nil)
	})
	if errors.Is(err, errDiscard) {
		return nil
	}
	return err
}

package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
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
// working (re-sending an invitation invalidates the previous one). It is
// the one way a link is made: it returns the link only when the mailer does
// not deliver (no mail server), so the caller may show it to the
// administrator who asked for it; "" when it goes out by mail.
func (s *Service) issueLink(ctx context.Context, row userRow, kind, sentTo, template string, vars map[string]string) (string, error) {
	if s.mailer == nil {
		return "", errors.New("identity: no mailer wired")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	exp := now.Add(s.linkTTL(kind))
	db := s.st.conn(ctx)
	if err := db.Model(&emailTokenRow{}).Where("user_id = ? AND kind = ? AND used_at IS NULL", row.ID, kind).
		Update("used_at", now).Error; err != nil {
		return "", fmt.Errorf("identity: invalidate links: %w", err)
	}
	if err := db.Create(&emailTokenRow{TokenHash: hashSetupToken(token), UserID: row.ID, Kind: kind,
		NewEmail: sentTo, ExpiresAt: exp, CreatedAt: now}).Error; err != nil {
		return "", fmt.Errorf("identity: store link: %w", err)
	}
	path := PathPasswordLink
	if kind == LinkVerify {
		path = PathVerifyLink
	}
	if vars == nil {
		vars = map[string]string{}
	}
	link := s.issuer + path + "?token=" + token
	vars["link"] = link
	vars["expires"] = exp.Format("2006-01-02 15:04 UTC")
	if err := s.mailer.Notify(ctx, template, sentTo, vars); err != nil {
		return "", err
	}
	if s.mailer.Delivers() {
		return "", nil
	}
	return link, nil
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

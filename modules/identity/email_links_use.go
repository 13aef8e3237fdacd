package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// SetPasswordWithLink sets the password of the user an invitation or reset
// link names, and uses the link up; the email counts as verified when the
// link went to the current address. Other sessions end and refresh tokens
// are revoked as with SetPassword. A password the policy refuses leaves the
// link usable. Errors: ErrEmailLink, *validation.Error.
func (s *Service) SetPasswordWithLink(ctx context.Context, token, password string) (User, error) {
	link, err := s.validLink(ctx, token, []string{LinkInvite, LinkReset})
	if err != nil {
		return User{}, err
	}
	row, err := s.st.userBy(ctx, "id", link.UserID)
	if err != nil {
		return User{}, notFound(err, ErrEmailLink)
	}
	if row.Machine {
		return User{}, ErrEmailLink
	}
	local, _, _ := strings.Cut(row.EmailNormalized, "@")
	if err := CheckPassword(password, row.EmailNormalized, local, derefOr(row.Username, "")); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("identity: hash password: %w", err)
	}
	var out User
	err = s.tx(ctx, func(ctx context.Context) error {
		tok, row, err := s.useLink(ctx, token, LinkInvite, LinkReset)
		if err != nil {
			return err
		}
		set := map[string]any{"password_hash": hash, "updated_at": s.now()}
		if strings.EqualFold(tok.NewEmail, row.Email) {
			set["email_verified"] = true
		}
		if err := s.endOpenLinks(ctx, row.ID); err != nil {
			return err
		}
		action := "user.password.reset"
		if tok.Kind == LinkInvite {
			action = "user.invite.accept"
		}
		if err := s.storePassword(ctx, row, set, action); err != nil {
			return err
		}
		out, err = s.UserByID(ctx, row.ID)
		return err
	})
	return out, err
}

// endOpenLinks ends every open invitation and reset link of the user: one
// used link ends the others, whichever way it was used.
func (s *Service) endOpenLinks(ctx context.Context, userID string) error {
	return s.st.conn(ctx).Model(&emailTokenRow{}).Where("user_id = ? AND kind IN ? AND used_at IS NULL",
		userID, []string{LinkInvite, LinkReset}).Update("used_at", s.now()).Error
}

// storePassword writes a new password hash (and the other columns in set)
// in the transaction in ctx, records action, tells the password listeners
// (other sessions end, refresh tokens are revoked) and mails a notice when
// a password existed before.
func (s *Service) storePassword(ctx context.Context, row userRow, set map[string]any, action string) error {
	res := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("identity: set password: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("identity: user %q: %w", row.ID, ErrNotFound)
	}
	if err := s.record(ctx, action, "user", row.ID, nil); err != nil {
		return err
	}
	if err := s.passwordChanged(ctx, row.ID); err != nil {
		return err
	}
	if row.PasswordHash != "" && s.mailer != nil {
		if err := s.mailer.Notify(ctx, mailNotice, row.Email, map[string]string{
			"detail": "The password of your account was changed."}); err != nil {
			return err
		}
	}
	return s.changed(ctx, row.ID)
}

// RequestEmailVerification mails the user a link that confirms their
// current address (valid 24 hours).
func (s *Service) RequestEmailVerification(ctx context.Context, userID string) error {
	return s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", userID)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", userID, err)
		}
		_, err = s.issueLink(ctx, row, LinkVerify, row.Email, mailVerify, nil)
		return err
	})
}

// RequestEmailChange is a user's own change of address (CONTRACT "Email"):
// nothing changes yet; the new address gets a link that makes the change
// when used, and the old one a notice. Errors: *validation.Error,
// ErrEmailTaken, ErrNotFound.
func (s *Service) RequestEmailChange(ctx context.Context, userID, newEmail string) error {
	email, norm, err := normalizeEmail(newEmail)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "id", userID)
		if err != nil {
			return fmt.Errorf("identity: user %q: %w", userID, err)
		}
		if norm == row.EmailNormalized {
			return nil
		}
		if err := s.checkUnique(ctx, userID, norm, nil); err != nil {
			return err
		}
		if err := s.record(ctx, "user.email.change_request", "user", userID, nil); err != nil {
			return err
		}
		if _, err := s.issueLink(ctx, row, LinkVerify, email, mailEmailChange, map[string]string{"new_email": email}); err != nil {
			return err
		}
		return s.mailer.Notify(ctx, mailNotice, row.Email, map[string]string{
			"detail": "Someone asked to change the email address of your account to " + email +
				". The change takes effect only when the link sent to that address is opened."})
	})
}

// VerifyEmailWithLink uses a verification link: the address it was sent to
// becomes the account's, verified. Errors: ErrEmailLink, ErrEmailTaken (the
// address was taken meanwhile).
func (s *Service) VerifyEmailWithLink(ctx context.Context, token string) (User, error) {
	var out User
	err := s.tx(ctx, func(ctx context.Context) error {
		tok, row, err := s.useLink(ctx, token, LinkVerify)
		if err != nil {
			return err
		}
		email, norm, err := normalizeEmail(tok.NewEmail)
		if err != nil {
			return ErrEmailLink
		}
		set := map[string]any{"email_verified": true, "updated_at": s.now()}
		fields := "email_verified"
		if norm != row.EmailNormalized {
			if err := s.checkUnique(ctx, row.ID, norm, nil); err != nil {
				return err
			}
			set["email"], set["email_normalized"] = email, norm
			fields = "email,email_verified"
		}
		if err := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).Updates(set).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrEmailTaken
			}
			return fmt.Errorf("identity: verify email: %w", err)
		}
		if err := s.record(ctx, "user.email.verify", "user", row.ID, map[string]string{"fields": fields}); err != nil {
			return err
		}
		out, err = s.UserByID(ctx, row.ID)
		return err
	})
	return out, err
}

// endVerifyLinks stops outstanding verification links of a user whose
// address an administrator changed, so an old link cannot change it back.
func (s *Service) endVerifyLinks(ctx context.Context, userID string) error {
	return s.st.conn(ctx).Model(&emailTokenRow{}).Where("user_id = ? AND kind = ? AND used_at IS NULL", userID, LinkVerify).
		Update("used_at", s.now()).Error
}

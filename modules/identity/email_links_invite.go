package identity

import (
	"context"
	"errors"
)

// Invitation is an invited user and, when the mailer does not deliver (no
// mail server is configured), the one-time link that was only logged: the
// administrator who invited them may pass it on. Link is "" when the
// invitation went out by mail.
type Invitation struct {
	User
	Link string
}

// InviteUser creates a user without a password (or finds the one with
// in.Email who has none) and mails an invitation link valid for 7 days;
// a new invitation invalidates the previous link. Errors: those of
// CreateUser; ErrEmailTaken when the address belongs to a user who has a
// password or is a service account.
func (s *Service) InviteUser(ctx context.Context, in NewUser) (Invitation, error) {
	in.Password = ""
	in.Machine = false
	p, err := s.prepareUser(ctx, in)
	if err != nil {
		return Invitation{}, err
	}
	var out Invitation
	err = s.tx(ctx, func(ctx context.Context) error {
		row, err := s.st.userBy(ctx, "email_normalized", p.row.EmailNormalized)
		switch {
		case errors.Is(err, ErrNotFound):
			if out.User, err = s.insertUser(ctx, p, map[string]string{"invited": "true"}); err != nil {
				return err
			}
			row = p.row
		case err != nil:
			return err
		case row.PasswordHash != "" || row.Machine:
			return ErrEmailTaken
		default:
			if out.User, err = s.st.withRoles(ctx, row); err != nil {
				return err
			}
		}
		if err := s.record(ctx, "user.invite", "user", row.ID, nil); err != nil {
			return err
		}
		out.Link, err = s.issueLink(ctx, row, LinkInvite, row.Email, mailInvite, map[string]string{"name": row.Name})
		return err
	})
	if err != nil {
		return Invitation{}, err
	}
	return out, nil
}

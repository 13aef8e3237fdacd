package identity

import (
	"context"
	"strings"
)

// AcceptInviteWithPasskey uses an invitation link up without setting a
// password: the invited user added a passkey instead. It joins the
// transaction in ctx, where the sign-in pages store the passkey, so the
// link is used exactly when the passkey is kept:
// the compare-and-swap on the link lets one of two concurrent uses win, and
// a failure later in the caller's transaction leaves the link usable. The
// email counts as verified when the link went to the current address, and
// the user's other open invitation and reset links end. Errors:
// ErrEmailLink.
func (s *Service) AcceptInviteWithPasskey(ctx context.Context, token string) (User, error) {
	var out User
	err := s.tx(ctx, func(ctx context.Context) error {
		tok, row, err := s.useLink(ctx, token, LinkInvite)
		if err != nil {
			return err
		}
		if row.Machine {
			return ErrEmailLink
		}
		if err := s.endOpenLinks(ctx, row.ID); err != nil {
			return err
		}
		if strings.EqualFold(tok.NewEmail, row.Email) {
			if err := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).
				Updates(map[string]any{"email_verified": true, "updated_at": s.now()}).Error; err != nil {
				return err
			}
		}
		if err := s.record(ctx, "user.invite.accept", "user", row.ID, map[string]string{"method": "passkey"}); err != nil {
			return err
		}
		if err := s.changed(ctx, row.ID); err != nil {
			return err
		}
		out, err = s.UserByID(ctx, row.ID)
		return err
	})
	return out, err
}

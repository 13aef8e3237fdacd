package signin

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/modules/identity"
)

// identity tells the pages, inside the transaction of each change, about
// users who were disabled, deleted or given a new password; the pages end
// the sessions those changes make stale (the oidc façade fans the calls
// out, after the provider's).

// UserChanged implements identity.Listener: a disabled (or vanished) user's
// sessions end, inside identity's transaction.
func (p *Pages) UserChanged(ctx context.Context, userID string) error {
	u, err := p.users.UserByID(ctx, userID)
	if errors.Is(err, identity.ErrNotFound) {
		_, err = p.sessions.deleteForUser(ctx, userID)
		return err
	}
	if err != nil {
		return fmt.Errorf("oidc: user changed: %w", err)
	}
	if u.Status != identity.StatusActive {
		_, err = p.sessions.deleteForUser(ctx, userID)
		return err
	}
	return nil
}

// PasswordChanged implements identity.PasswordListener (inside identity's
// transaction): a new password ends every other browser session of the
// user; keepSessionID is the session that set it ("" ends them all).
func (p *Pages) PasswordChanged(ctx context.Context, userID, keepSessionID string) error {
	_, err := p.sessions.deleteForUserExcept(ctx, userID, keepSessionID)
	return err
}

// UserDeleted implements identity.Listener: sessions and remembered
// consents of a deleted user go with it.
func (p *Pages) UserDeleted(ctx context.Context, userID string) error {
	if _, err := p.sessions.deleteForUser(ctx, userID); err != nil {
		return err
	}
	return p.consents.deleteForUser(ctx, userID)
}

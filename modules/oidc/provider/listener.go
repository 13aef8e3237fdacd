package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// The provider follows identity's changes: a disabled or deleted user's
// grants end at once. main registers it with identity.Service.AddListener.
var _ identity.Listener = (*Provider)(nil)

// UserChanged revokes every token of a user who is now disabled: their
// refresh token families, and (by subject, through the denylist) every
// access token issued to them so far. Other changes (password, roles) keep
// the grants; roles are re-read on the next refresh.
func (p *Provider) UserChanged(ctx context.Context, userID string) error {
	u, err := p.users.UserByID(ctx, userID)
	if errors.Is(err, identity.ErrNotFound) {
		return p.revokeUser(ctx, userID)
	}
	if err != nil {
		return fmt.Errorf("oidc: user changed: %w", err)
	}
	if u.Status == identity.StatusDisabled {
		return p.revokeUser(ctx, userID)
	}
	return nil
}

// UserDeleted revokes every token of a deleted user.
func (p *Provider) UserDeleted(ctx context.Context, userID string) error {
	return p.revokeUser(ctx, userID)
}

func (p *Provider) revokeUser(ctx context.Context, userID string) error {
	if err := p.revokeUserGrants(ctx, userID, "", ""); err != nil {
		return fmt.Errorf("oidc: revoke user's grants: %w", err)
	}
	return p.revoked.record(ctx, userID, revokedSubject, p.now().Add(clients.MaxTokenTTL+time.Hour))
}

// PasswordChanged (identity.PasswordListener, inside identity's
// transaction) revokes every refresh token family of the user: a new
// password ends what the old one started (ASVS 3.3.3). Revoking a family
// also puts its grant on the denylist, so the access tokens issued within
// those grants stop working at once; an access token issued without a
// refresh token lives out its short lifetime. keepSessionID (the browser
// session that changed the password) keeps its session, not its tokens:
// the apps sign in again through that session without a prompt.
func (p *Provider) PasswordChanged(ctx context.Context, userID, _ string) error {
	if err := p.revokeUserGrants(ctx, userID, "", ""); err != nil {
		return fmt.Errorf("oidc: revoke user's grants: %w", err)
	}
	return nil
}

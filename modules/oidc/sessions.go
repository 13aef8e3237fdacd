package oidc

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/oidc/signin"
)

// UserSessions lists a user's live browser sessions, newest first (the
// console's user page).
func (m *Module) UserSessions(ctx context.Context, userID string) ([]signin.UserSession, error) {
	return m.signin.UserSessions(ctx, userID)
}

// EndUserSession ends one session of a user, audited as "logout" by the
// caller; signin.ErrSessionNotFound when the user has no such session. As
// the user's own "Sign out", it leaves the refresh tokens apps hold alone
// (they end with the grant's revocation, a password change or a disabled
// user).
func (m *Module) EndUserSession(ctx context.Context, userID, sessionID string) error {
	return m.signin.EndUserSession(ctx, userID, sessionID)
}

// EndUserSessions ends every session of a user ("End all sessions") and
// reports how many ended.
func (m *Module) EndUserSessions(ctx context.Context, userID string) (int, error) {
	return m.signin.EndUserSessions(ctx, userID)
}

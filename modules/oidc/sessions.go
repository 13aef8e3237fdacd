package oidc

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
)

// UserSessions lists a user's live browser sessions, newest first (the
// console's user page).
func (m *Module) UserSessions(ctx context.Context, userID string) ([]signin.UserSession, error) {
	return m.signin.UserSessions(ctx, userID)
}

// EndUserSession ends one session of a user, audited as "logout" by the
// caller, and revokes the grants apps obtained through it (their refresh
// tokens and the access tokens those issued), in one transaction;
// signin.ErrSessionNotFound when the user has no such session. An admin
// ends a session because it should not be trusted, so nothing it gave
// apps outlives it.
func (m *Module) EndUserSession(ctx context.Context, userID, sessionID string) error {
	return database.Transact(ctx, m.db.Gorm, func(ctx context.Context) error {
		if err := m.signin.EndUserSession(ctx, userID, sessionID); err != nil {
			return err
		}
		return m.provider.RevokeSessionGrants(ctx, userID, sessionID)
	})
}

// EndUserSessions ends every session of a user ("End all sessions") and
// revokes every grant of the user, in one transaction, and reports how
// many sessions ended.
func (m *Module) EndUserSessions(ctx context.Context, userID string) (int, error) {
	var n int
	err := database.Transact(ctx, m.db.Gorm, func(ctx context.Context) error {
		var err error
		if n, err = m.signin.EndUserSessions(ctx, userID); err != nil {
			return err
		}
		return m.provider.RevokeSessionGrants(ctx, userID, "")
	})
	return n, err
}

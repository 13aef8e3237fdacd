package oidc

import "context"

// CountSessions returns how many browser sessions are live (the console's
// overview).
func (m *Module) CountSessions(ctx context.Context) (int64, error) {
	return m.signin.CountSessions(ctx)
}

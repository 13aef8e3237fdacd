package signin

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/modules/identity"
)

// attempt is who a sign-in attempt names. Failures count against the
// account when the typed identifier (email or username) resolves to one,
// so both identifiers of one account share one counter (CONTRACT "Sign-in
// protection"); an identifier that names nobody keeps a counter of its own
// under its normalized form, and the answers are the same either way.
type attempt struct {
	// UserID is the account the identifier names ("" when none).
	UserID string
	// LockKey is the failure counter's key: the account's, or the
	// normalized identifier's (hashed, see throttleKey).
	LockKey string
}

// resolveAttempt looks the typed identifier up in the directory. Both
// branches cost one indexed look-up; the password check that follows
// does the same hashing work for known and unknown accounts.
func (p *Pages) resolveAttempt(ctx context.Context, login string) (attempt, error) {
	u, err := p.users.UserByLogin(ctx, login)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return attempt{LockKey: throttleKey("login", login)}, nil
	case err != nil:
		return attempt{}, fmt.Errorf("oidc: resolve sign-in identifier: %w", err)
	}
	return attempt{UserID: u.ID, LockKey: throttleKey("user", u.ID)}, nil
}

package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/modules/audit"
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
	// Email is where that account's notices go ("" for none, or for a
	// service account).
	Email string
	// LockKey is the failure counter's key: the account's, or the
	// normalized identifier's (hashed, see throttleKey).
	LockKey string
	// Target is what the attempt's audit events name: {user, <id>}, or
	// {login, <keyed hash of the normalized identifier>} — never the typed
	// text, which is sometimes a password typed into the wrong field
	// (CONTRACT "audit-events").
	Target audit.Ref
}

// resolveAttempt looks the typed identifier up in the directory. Both
// branches cost one indexed look-up; the password check that follows
// does the same hashing work for known and unknown accounts.
func (p *Pages) resolveAttempt(ctx context.Context, login string) (attempt, error) {
	u, err := p.users.UserByLogin(ctx, login)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return attempt{
			LockKey: throttleKey("login", login),
			Target:  audit.Ref{Type: "login", ID: identifierAuditID(p.identifierKey, login)},
		}, nil
	case err != nil:
		return attempt{}, fmt.Errorf("oidc: resolve sign-in identifier: %w", err)
	}
	a := attempt{UserID: u.ID, LockKey: throttleKey("user", u.ID), Target: audit.Ref{Type: "user", ID: u.ID}}
	if !u.Machine {
		a.Email = u.Email
	}
	return a, nil
}

// IdentifierKeyInfo is the HKDF info label under which the façade derives
// Config.IdentifierKey from the master key.
const IdentifierKeyInfo = "gatehouse oidc/signin audit identifier v1"

// identifierAuditID is the audit id of an identifier that names no
// account: HMAC-SHA256 under a key derived from the master key, of the
// normalized identifier, in hex, truncated to 128 bits. The same typed
// identifier gets the same id on every replica, so repeated failures can be
// correlated, but without the key the id reveals nothing of the text (a
// plain hash of a short password would be guessed offline).
func identifierAuditID(key []byte, login string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(login))))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

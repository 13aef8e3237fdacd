package signin

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// Directory is what the sign-in pages need from identity.
// identity.Service satisfies it.
type Directory interface {
	// VerifyPassword returns identity.ErrInvalidCredentials for an unknown
	// login, a wrong password or a user without one (with equal timing), and
	// identity.ErrUserDisabled only after a correct password.
	VerifyPassword(ctx context.Context, login, password string) (identity.User, error)
	// UserByID returns identity.ErrNotFound for an unknown id.
	UserByID(ctx context.Context, id string) (identity.User, error)
	// CheckCurrentPassword returns identity.ErrInvalidCredentials unless
	// password is the user's current one ("Confirm it's you").
	CheckCurrentPassword(ctx context.Context, id, password string) error
	// UserByLogin returns the user whose email or username is login (any
	// case), or identity.ErrNotFound. Sign-in protection counts failures
	// per account with it, whichever identifier was typed.
	UserByLogin(ctx context.Context, login string) (identity.User, error)
}

// The pages end sessions when identity reports a disabled or deleted user,
// and the user's other sessions when their password is set.
var (
	_ identity.Listener         = (*Pages)(nil)
	_ identity.PasswordListener = (*Pages)(nil)
)

// The provider ends sessions through the seam (RP-initiated logout).
var _ flow.SessionEnder = (*Pages)(nil)

// AuditLog records security events (sign-in, sign-out, session ends)
// inside the caller's transaction; audit.Service satisfies it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Passkeys is what the sign-in pages need from the passkeys module
// (*passkeys.Service satisfies it): the usernameless sign-in ceremony
// ("Use passkey" and autofill), the re-authentication ceremony of a
// signed-in user (step-up), and the user's passkeys for /account. Optional:
// without it /login offers no passkey and acr_values=phr is never met.
type Passkeys interface {
	// BeginLogin starts a usernameless ceremony (any discoverable passkey).
	BeginLogin(ctx context.Context) (passkeys.Ceremony, error)
	// BeginReauth starts a ceremony only userID's passkeys may answer;
	// passkeys.ErrNotFound when the user has none.
	BeginReauth(ctx context.Context, userID string) (passkeys.Ceremony, error)
	// FinishLogin verifies the assertion (user verification required) and
	// refuses a disabled user (passkeys.ErrUserDisabled); it audits a
	// refusal itself.
	FinishLogin(ctx context.Context, handle string, body []byte) (passkeys.LoginResult, error)
	HasPasskey(ctx context.Context, userID string) (bool, error)
	List(ctx context.Context, userID string) ([]passkeys.Passkey, error)
	// BeginRegistration and FinishRegistrationThen register a passkey for
	// a user an invitation link authorized; then runs inside the passkey's
	// transaction (using the link), and its error keeps nothing.
	BeginRegistration(ctx context.Context, userID string) (passkeys.Ceremony, error)
	FinishRegistrationThen(ctx context.Context, userID, handle, name string, body []byte, then func(ctx context.Context) error) (passkeys.Passkey, error)
}

// Notifier mails a user a security notice, queued in the transaction in ctx
// so it is sent exactly when the change commits (implemented by
// mail.Service). Optional: nil means no notices.
type Notifier interface {
	Notify(ctx context.Context, template, to string, vars map[string]string) error
}

// noticeTemplate is the mail module's security-notice template; its one
// variable, "detail", is the sentence saying what happened.
const noticeTemplate = "notice"

// PasswordSetter sets a signed-in user's new password on /account
// ("Change password"); identity.Service satisfies it. SetPassword validates
// the password (a *validation.Error for the user) and, in the same
// transaction, ends the user's other sessions and refresh tokens (the
// session in ctx stays). Optional: nil means /account offers no change.
type PasswordSetter interface {
	SetPassword(ctx context.Context, id, password string) error
}

// APIKeys is what /account needs for a user's own personal API keys. The
// sign-in pages never import apikeys: main adapts apikeys.Service to this
// (cmd/gatehouse), so the keys are created, listed and revoked by the same
// service calls as through the API, audited alike. Optional: nil means
// /account has no API keys section.
type APIKeys interface {
	// CreateKey issues an unrestricted key owned by userID and returns it
	// with its secret, which is never available again. A bad name is a
	// *validation.Error.
	CreateKey(ctx context.Context, userID, name string) (APIKey, string, error)
	// ListKeys returns userID's active (unrevoked) keys, newest first.
	ListKeys(ctx context.Context, userID string) ([]APIKey, error)
	// RevokeKey revokes the key with id. The pages check first that it is
	// one of the user's own (ListKeys).
	RevokeKey(ctx context.Context, id string) error
}

// APIKey is a personal API key as /account shows it: never its secret.
type APIKey struct {
	ID     string
	Name   string
	Prefix string // "gh_" and the public id: what a user matches a key by
	// CreatedAt and LastUsedAt (nil: never used).
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
}

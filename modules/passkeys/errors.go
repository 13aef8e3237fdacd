package passkeys

import (
	"errors"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// Sentinel errors; service methods wrap them, callers use errors.Is. Their
// messages are written to be shown on a page as they are (after the
// "passkeys: " prefix is cut by Message).
var (
	// ErrNotFound: no passkey with that id belongs to the user.
	ErrNotFound = errors.New("passkeys: passkey not found")
	// ErrChallengeUnknown: the ceremony handle is unknown, was already used
	// or belongs to another ceremony; the browser must start again.
	ErrChallengeUnknown = errors.New("passkeys: this passkey request is unknown or was already used; please try again")
	// ErrChallengeExpired: the ceremony was begun more than ChallengeTTL ago.
	ErrChallengeExpired = errors.New("passkeys: this passkey request has expired; please try again")
	// ErrVerification: the authenticator's response is malformed or does not
	// verify (wrong origin, RP ID, challenge, signature, missing user
	// verification, ...).
	ErrVerification = errors.New("passkeys: the passkey response could not be verified")
	// ErrUnknownCredential: no registered passkey has the credential id the
	// authenticator used (it may have been removed).
	ErrUnknownCredential = errors.New("passkeys: this passkey is not registered here")
	// ErrDuplicate: the authenticator returned a credential that is already
	// registered.
	ErrDuplicate = errors.New("passkeys: this passkey is already registered")
	// ErrCloned: the signature counter went backwards, a sign that the
	// credential's private key may have been copied. The sign-in is refused
	// and audited.
	ErrCloned = errors.New("passkeys: this passkey was refused because its signature counter went backwards (possible cloned authenticator)")
	// ErrUserDisabled: the passkey's user is disabled and may not sign in or
	// register passkeys.
	ErrUserDisabled = errors.New("passkeys: this account is disabled")
)

// Message returns err's text for a page: the sentinel's sentence without
// the package prefix, or a generic sentence for anything else.
func Message(err error) string {
	for _, s := range []error{
		ErrNotFound, ErrChallengeUnknown, ErrChallengeExpired, ErrVerification,
		ErrUnknownCredential, ErrDuplicate, ErrCloned, ErrUserDisabled,
	} {
		if errors.Is(err, s) {
			return s.Error()[len("passkeys: "):]
		}
	}
	if v, ok := validation.As(err); ok {
		return v.Field + " " + v.Message
	}
	return "something went wrong with the passkey; please try again"
}

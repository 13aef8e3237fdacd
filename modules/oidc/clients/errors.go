package clients

import "errors"

// Sentinels of the client registry; wrapped with context where returned.
var (
	// ErrNotFound: no such client.
	ErrNotFound = errors.New("oidc: not found")
	// ErrWrongSecret: Authenticate was given no secret, a wrong or expired
	// one, or a secret for a public client.
	ErrWrongSecret = errors.New("oidc: client authentication failed")
)

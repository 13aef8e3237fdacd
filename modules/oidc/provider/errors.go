package provider

import "errors"

// Sentinels of the provider half; wrapped with context where returned.
var (
	// ErrNotFound: no such client (or key, token).
	ErrNotFound = errors.New("oidc: not found")
	// ErrInvalidClient: a client definition fails validation; the message
	// names the field.
	ErrInvalidClient = errors.New("oidc: invalid client")
	// ErrInvalidToken: a token that is malformed, expired, revoked or not ours.
	ErrInvalidToken = errors.New("oidc: invalid token")
)

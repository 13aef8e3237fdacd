package provider

import "errors"

// ErrInvalidToken: a token that is malformed, expired, revoked or not ours.
var ErrInvalidToken = errors.New("oidc: invalid token")

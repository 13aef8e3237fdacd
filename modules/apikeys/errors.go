package apikeys

import "errors"

// Sentinel errors; service methods wrap them, callers use errors.Is.
var (
	// ErrNotFound: no key with that id.
	ErrNotFound = errors.New("apikeys: not found")
	// ErrOwnerNotFound: the owner user does not exist.
	ErrOwnerNotFound = errors.New("apikeys: owner not found")
	// ErrOwnerDisabled: keys cannot be created for a disabled user.
	ErrOwnerDisabled = errors.New("apikeys: owner is disabled")
	// ErrScopeEscalation: a scoped credential asked for a key with more
	// rights than its own scopes.
	ErrScopeEscalation = errors.New("apikeys: requested scopes exceed the creator's scopes")
)

package apikeys

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
)

// Key is an API key as other code sees it: never the secret or its hash.
type Key struct {
	ID         string // UUIDv7; the API's {id}
	PublicID   string // the part after "gh_", shown so a user can match a key
	UserID     string // owner: a person or a service account (Machine user)
	Name       string
	Scopes     []string // nil: the owner's full rights
	ExpiresAt  *time.Time
	CreatedAt  time.Time
	LastUsedAt *time.Time // updated in batches, so up to ~10 s late
	RevokedAt  *time.Time
	CreatedBy  string // principal id of the creator ("gatehouse" for the CLI)
}

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return k.RevokedAt != nil }

// Expired reports whether the key has expired at now.
func (k Key) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// NewKey is the input of Create.
type NewKey struct {
	UserID    string
	Name      string
	Scopes    []string // validated with ValidateScopes; nil or empty: unrestricted
	ExpiresAt *time.Time
}

// Created is returned once, by Create: the only time the secret exists
// outside the caller's hands.
type Created struct {
	Key
	// Secret is the whole bearer credential ("gh_…").
	Secret string
}

// Filter selects keys for List.
type Filter struct {
	UserID         string // required
	IncludeRevoked bool
	PageSize       int // 1..page.MaxSize; 0 means page.DefaultSize
	PageToken      string
}

// Page is one page of keys, newest first.
type Page = page.Page[Key]

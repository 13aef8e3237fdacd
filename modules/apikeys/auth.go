package apikeys

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// AuthenticateBearer implements httpserver.BearerAuthenticator for "gh_"
// keys. Every rejection (malformed, wrong checksum, unknown, wrong secret,
// revoked, expired, owner disabled or deleted) wraps
// httpserver.ErrUnauthenticated; other errors are database failures.
//
// The common path does no I/O: ParseKey, a cache hit and a constant-time
// comparison of SHA-256 hashes; the last-use time goes to memory and Run
// writes it later.
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	pk, err := ParseKey(token)
	if err != nil {
		return principal.Principal{}, fmt.Errorf("%w: %w", httpserver.ErrUnauthenticated, err)
	}
	e, err := s.entry(ctx, pk.PublicID)
	if err != nil {
		return principal.Principal{}, err
	}
	h := hashSecret(pk.Secret)
	// Unknown keys get a zero hash entry, so they take the same path.
	if subtle.ConstantTimeCompare(h[:], e.hash[:]) != 1 || !e.known {
		return principal.Principal{}, fmt.Errorf("%w: unknown API key", httpserver.ErrUnauthenticated)
	}
	now := s.opts.Now()
	switch {
	case e.revoked:
		return principal.Principal{}, fmt.Errorf("%w: API key revoked", httpserver.ErrUnauthenticated)
	case e.expires != nil && !now.Before(*e.expires):
		return principal.Principal{}, fmt.Errorf("%w: API key expired", httpserver.ErrUnauthenticated)
	case !e.ownerActive:
		return principal.Principal{}, fmt.Errorf("%w: API key owner is disabled or deleted", httpserver.ErrUnauthenticated)
	}
	s.usage.record(e.id, now)
	p := principal.Principal{
		Kind: principal.User, ID: e.ownerID, Via: principal.ViaAPIKey, CredentialID: e.id,
		Scopes: slices.Clone(e.scopes), // nil stays nil: the owner's full rights
	}
	if e.machine {
		p.Kind = principal.Service
	}
	return p, nil
}

// cacheEntry is what verification needs of a key and its owner.
type cacheEntry struct {
	known       bool // false: no key with this public id (negative entry)
	id          string
	hash        [sha256.Size]byte
	ownerID     string
	scopes      []string
	expires     *time.Time
	revoked     bool
	ownerActive bool
	machine     bool
}

// maxCacheEntries bounds memory: random well-formed keys create negative
// entries too.
const maxCacheEntries = 50_000 // ~200 bytes each: ~10 MiB full

// keyCache maps public key ids to entries for CacheTTL. gen changes on every
// invalidation so that a load that started before an invalidation does not
// store what it read (it may predate the change).
type keyCache struct {
	entries *cache.TTL[string, *cacheEntry]
	gen     atomic.Uint64
	loads   singleflight.Group
}

func newKeyCache(ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{entries: cache.New[string, *cacheEntry](ttl, maxCacheEntries, now)}
}

func (c *keyCache) drop(pub string) {
	c.entries.Delete(pub)
	c.gen.Add(1)
}

func (c *keyCache) dropOwner(userID string) {
	c.entries.DeleteFunc(func(_ string, e *cacheEntry) bool { return e.ownerID == userID })
	c.gen.Add(1)
}

// entry returns a cache entry for pub, loading it (once for concurrent
// callers) when absent or older than CacheTTL.
func (s *Service) entry(ctx context.Context, pub string) (*cacheEntry, error) {
	if s.opts.CacheTTL > 0 {
		if e, ok := s.cache.entries.Get(pub); ok {
			return e, nil
		}
	}
	gen := s.cache.gen.Load()
	v, err, _ := s.cache.loads.Do(pub, func() (any, error) {
		e, err := s.load(context.WithoutCancel(ctx), pub)
		if err != nil {
			return nil, err
		}
		if s.opts.CacheTTL > 0 && s.cache.gen.Load() == gen {
			s.cache.entries.Put(pub, e)
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cacheEntry), nil
}

func (s *Service) load(ctx context.Context, pub string) (*cacheEntry, error) {
	r, err := s.store.byPublicID(ctx, pub)
	if errors.Is(err, ErrNotFound) {
		return &cacheEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{
		known: true, id: r.ID, ownerID: r.UserID, expires: utcPtr(r.ExpiresAt),
		revoked: r.RevokedAt != nil,
	}
	if r.Scopes != "" {
		e.scopes = r.toKey().Scopes
	}
	if b, err := hex.DecodeString(r.SecretHash); err == nil && len(b) == sha256.Size {
		copy(e.hash[:], b)
	} else {
		e.known = false // a corrupt hash matches nothing
	}
	owner, err := s.users.UserByID(ctx, r.UserID)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		e.ownerActive = false
	case err != nil:
		return nil, fmt.Errorf("apikeys: owner of key: %w", err)
	default:
		e.ownerActive = owner.Active()
		e.machine = owner.Machine
	}
	return e, nil
}

package apikeys

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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
	loadedAt    time.Time
}

// maxCacheEntries bounds memory: random well-formed keys create negative
// entries, so when the map is full it is simply cleared.
const maxCacheEntries = 100_000

// cache maps public key ids to entries. gen changes on every invalidation so
// that a load that started before an invalidation does not store what it
// read (it may predate the change).
type cache struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	gen     uint64
	loads   singleflight.Group
}

func newCache() *cache { return &cache{entries: map[string]*cacheEntry{}} }

func (c *cache) get(pub string) (*cacheEntry, uint64) {
	c.mu.RLock()
	e, gen := c.entries[pub], c.gen
	c.mu.RUnlock()
	return e, gen
}

func (c *cache) put(pub string, e *cacheEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[pub] = e
}

func (c *cache) drop(pub string) {
	c.mu.Lock()
	delete(c.entries, pub)
	c.gen++
	c.mu.Unlock()
}

func (c *cache) dropOwner(userID string) {
	c.mu.Lock()
	for pub, e := range c.entries {
		if e.ownerID == userID {
			delete(c.entries, pub)
		}
	}
	c.gen++
	c.mu.Unlock()
}

// entry returns a fresh cache entry for pub, loading it (once for concurrent
// callers) when absent or older than CacheTTL.
func (s *Service) entry(ctx context.Context, pub string) (*cacheEntry, error) {
	now := s.opts.Now()
	e, gen := s.cache.get(pub)
	if e != nil && s.opts.CacheTTL > 0 && now.Sub(e.loadedAt) < s.opts.CacheTTL {
		return e, nil
	}
	v, err, _ := s.cache.loads.Do(pub, func() (any, error) {
		e, err := s.load(context.WithoutCancel(ctx), pub, now)
		if err != nil {
			return nil, err
		}
		if s.opts.CacheTTL > 0 {
			s.cache.put(pub, e, gen)
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cacheEntry), nil
}

func (s *Service) load(ctx context.Context, pub string, now time.Time) (*cacheEntry, error) {
	r, err := s.store.byPublicID(ctx, pub)
	if errors.Is(err, ErrNotFound) {
		return &cacheEntry{loadedAt: now}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{
		known: true, id: r.ID, ownerID: r.UserID, expires: utcPtr(r.ExpiresAt),
		revoked: r.RevokedAt != nil, loadedAt: now,
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

package clients

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// ClientByID is the token path's look-up: through the cache (Options.CacheTTL),
// so a busy token endpoint does not read the database for every request.
// An unknown id is ErrNotFound (cached too); anything else is a database
// fault. Use Get for a fresh read.
func (s *Service) ClientByID(ctx context.Context, id string) (Client, error) {
	rec, err := s.record(ctx, id)
	if err != nil {
		return Client{}, err
	}
	return rec.Client, nil
}

// Authenticate checks a confidential client's secret against its unexpired
// secrets (SHA-256, constant-time compare) through the cache. A wrong,
// expired or missing secret, or any secret for a public client, is
// ErrWrongSecret; an unknown client ErrNotFound.
func (s *Service) Authenticate(ctx context.Context, id, presented string) (Client, error) {
	rec, err := s.record(ctx, id)
	if err != nil {
		return Client{}, err
	}
	if !rec.verifySecret(presented, s.now()) {
		return Client{}, ErrWrongSecret
	}
	return rec.Client, nil
}

// record looks a client and its secrets up through the cache.
func (s *Service) record(ctx context.Context, id string) (*clientRecord, error) {
	now := s.now()
	if rec, ok := s.cache.get(id, now); ok {
		if rec == nil {
			return nil, ErrNotFound
		}
		return rec, nil
	}
	rec, err := s.store.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		s.cache.put(id, nil, now)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	s.cache.put(id, rec, now)
	return rec, nil
}

// clientRecord is a client with the hashes of its current secrets, as the
// token endpoint needs it.
type clientRecord struct {
	Client
	secrets []clientSecretRow
}

// verifySecret compares secret with every unexpired secret of the client in
// constant time (per comparison); during a rotation's overlap window both
// the old and the new secret are accepted.
func (r *clientRecord) verifySecret(presented string, now time.Time) bool {
	if presented == "" || r.Public {
		return false
	}
	h := secret.Hash(presented)
	ok := false
	for _, s := range r.secrets {
		if s.ExpiresAt != nil && !now.Before(*s.ExpiresAt) {
			continue
		}
		if secret.EqualHash(h, s.SecretHash) {
			ok = true
		}
	}
	return ok
}

// clientCache keeps client look-ups off the database on the token path. The
// TTL bounds how long another replica's change takes to be seen; changes made
// through this process invalidate at once. Unknown ids are cached too, so a
// flood of bad client ids does not reach the database.
type clientCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[string]clientCacheEntry
}

type clientCacheEntry struct {
	rec     *clientRecord // nil: not found
	expires time.Time
}

func newClientCache(ttl time.Duration) *clientCache {
	return &clientCache{ttl: ttl, m: map[string]clientCacheEntry{}}
}

func (c *clientCache) get(id string, now time.Time) (*clientRecord, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.rec, true
}

func (c *clientCache) put(id string, rec *clientRecord, now time.Time) {
	c.mu.Lock()
	if len(c.m) > 10000 { // bound memory against id spraying
		c.m = map[string]clientCacheEntry{}
	}
	c.m[id] = clientCacheEntry{rec: rec, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

func (c *clientCache) invalidate(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

package provider

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"gorm.io/gorm"
)

// keyAlgs are the algorithms the provider always holds a key for. RS256 is
// mandatory for ID tokens (OpenID Connect Core 1.0 §15.1); ES256 is the
// faster default for access tokens; EdDSA (Ed25519, RFC 8037) is a
// client's choice for its access tokens.
var keyAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// signingKey is one decrypted key pair with its ready signers.
type signingKey struct {
	id        string
	alg       jose.SignatureAlgorithm
	priv      crypto.Signer
	createdAt time.Time
	retiredAt *time.Time
	expiresAt *time.Time
	atSigner  jose.Signer // typ at+jwt (access tokens, RFC 9068 §2.1)
}

// SignatureAlgorithm, Key and ID make signingKey an op.SigningKey.
func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a signingKey's public half as op.Key (for the JWKS).
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }
func (p publicKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: p.Key(), KeyID: p.k.id, Algorithm: string(p.k.alg), Use: "sig"}
}
func (k *signingKey) public() publicKey { return publicKey{k} }
func (k *signingKey) usable(now time.Time) bool {
	return k.expiresAt == nil || now.Before(*k.expiresAt)
}
func (k *signingKey) isActive() bool                                { return k.retiredAt == nil }
func (k *signingKey) olderThan(d time.Duration, now time.Time) bool { return now.Sub(k.createdAt) >= d }

// keyManager holds the signing keys: generated on first start, stored
// encrypted, shared by every replica through the database, cached in memory
// and refreshed periodically (and at once when a token names an unknown kid).
type keyManager struct {
	db        *gorm.DB
	sealer    *sealer
	now       func() time.Time
	rotation  time.Duration // an active key older than this is replaced
	retention time.Duration // a retired key stays published this long
	logger    *slog.Logger

	mu       sync.RWMutex
	byID     map[string]*signingKey
	active   map[jose.SignatureAlgorithm]*signingKey
	jwksDoc  *document
	loadedAt time.Time

	reloadMu sync.Mutex

	// pending is closed when the key generation ensure started in the
	// background has ended; pendingErr is its error.
	pending    atomic.Pointer[chan struct{}]
	pendingErr atomic.Pointer[error]
}

func (m *keyManager) activeKey(alg jose.SignatureAlgorithm) (*signingKey, error) {
	m.waitPending()
	m.mu.RLock()
	k := m.active[alg]
	m.mu.RUnlock()
	if k == nil {
		if err := m.pendingErr.Load(); err != nil {
			return nil, fmt.Errorf("oidc: no active %s signing key: %w", alg, *err)
		}
		return nil, fmt.Errorf("oidc: no active %s signing key (provider not initialised?)", alg)
	}
	return k, nil
}

// byKID returns a published key; on a miss it reloads from the database at
// most once a second, so a key another replica just created is found.
func (m *keyManager) byKID(ctx context.Context, kid string) (*signingKey, bool) {
	m.mu.RLock()
	k, ok := m.byID[kid]
	loadedAt := m.loadedAt
	m.mu.RUnlock()
	if ok {
		return k, k.usable(m.now())
	}
	if m.now().Sub(loadedAt) < time.Second {
		return nil, false
	}
	if err := m.load(ctx); err != nil {
		return nil, false
	}
	m.mu.RLock()
	k, ok = m.byID[kid]
	m.mu.RUnlock()
	return k, ok && k.usable(m.now())
}

func (m *keyManager) published() []*signingKey {
	m.waitPending()
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	out := make([]*signingKey, 0, len(m.byID))
	for _, k := range m.byID {
		if k.usable(now) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b *signingKey) int { return b.createdAt.Compare(a.createdAt) })
	return out
}

// jwksDocument is the JWKS as served. The short max-age lets verifiers see
// a new key quickly; they revalidate with If-None-Match and get 304 while
// it holds.
func jwksDocument(b []byte) *document {
	return newDocument(b, "application/jwk-set+json", "public, max-age=300")
}

// jwks is the published key set's document, rebuilt by every load.
func (m *keyManager) jwks() *document {
	m.waitPending()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.jwksDoc
}

package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
)

// keyAlgs are the algorithms the provider always holds a key for. RS256 is
// mandatory for ID tokens (OpenID Connect Core 1.0 §15.1); ES256 is the
// faster default for access tokens.
var keyAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

type signingKeyRow struct {
	ID         string `gorm:"primaryKey"`
	Alg        string
	PrivateKey string // PKCS#8 DER sealed with the master key (crypto.go)
	CreatedAt  time.Time
	RetiredAt  *time.Time
	ExpiresAt  *time.Time // a retired key leaves the JWKS (and the table) after this
}

func (signingKeyRow) TableName() string { return "oidc_signing_keys" }

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
	jwksJSON []byte
	loadedAt time.Time

	reloadMu sync.Mutex
}

func (m *keyManager) activeKey(alg jose.SignatureAlgorithm) (*signingKey, error) {
	m.mu.RLock()
	k := m.active[alg]
	m.mu.RUnlock()
	if k == nil {
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

func (m *keyManager) jwks() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.jwksJSON
}

// ensure creates a key for every algorithm that has no active one, then
// loads the key set.
func (m *keyManager) ensure(ctx context.Context) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	var missing []jose.SignatureAlgorithm
	m.mu.RLock()
	for _, alg := range keyAlgs {
		if m.active[alg] == nil {
			missing = append(missing, alg)
		}
	}
	m.mu.RUnlock()
	if len(missing) == 0 {
		return nil
	}
	for _, alg := range missing {
		if err := m.insertNew(ctx, alg); err != nil {
			return err
		}
	}
	return m.load(ctx)
}

// rotate replaces the active key of every algorithm when force is set or it
// is older than the rotation period. The old key is retired: no longer used
// to sign, still published until every token it signed has expired. A
// compare-and-swap on retired_at keeps two replicas from rotating the same
// key twice.
func (m *keyManager) rotate(ctx context.Context, force bool) (bool, error) {
	if err := m.load(ctx); err != nil {
		return false, err
	}
	now := m.now()
	rotated := false
	for _, alg := range keyAlgs {
		m.mu.RLock()
		cur := m.active[alg]
		m.mu.RUnlock()
		if cur != nil && !force && !cur.olderThan(m.rotation, now) {
			continue
		}
		err := database.Transact(ctx, m.db, func(ctx context.Context) error {
			if cur != nil {
				exp := now.Add(m.retention)
				res := database.Conn(ctx, m.db).Model(&signingKeyRow{}).
					Where("id = ? AND retired_at IS NULL", cur.id).
					Updates(map[string]any{"retired_at": now, "expires_at": exp})
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected != 1 {
					return errAlreadyRotated
				}
			}
			return m.insertNew(ctx, alg)
		})
		if errors.Is(err, errAlreadyRotated) {
			continue
		}
		if err != nil {
			return rotated, fmt.Errorf("oidc: rotate %s key: %w", alg, err)
		}
		rotated = true
	}
	if err := database.Conn(ctx, m.db).Where("expires_at IS NOT NULL AND expires_at < ?", now).Delete(&signingKeyRow{}).Error; err != nil {
		return rotated, fmt.Errorf("oidc: delete expired keys: %w", err)
	}
	return rotated, m.load(ctx)
}

var errAlreadyRotated = errors.New("oidc: key already rotated by another replica")

func (m *keyManager) insertNew(ctx context.Context, alg jose.SignatureAlgorithm) error {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return fmt.Errorf("oidc: unsupported key algorithm %s", alg)
	}
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	sealed, err := m.sealer.seal(der, []byte("signing-key:"+id.String()))
	if err != nil {
		return err
	}
	row := signingKeyRow{ID: id.String(), Alg: string(alg), PrivateKey: sealed, CreatedAt: m.now()}
	if err := database.Conn(ctx, m.db).Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: store signing key: %w", err)
	}
	if m.logger != nil {
		m.logger.Info("oidc: new signing key", slog.String("kid", row.ID), slog.String("alg", row.Alg))
	}
	return nil
}

// load reads every unexpired key. Keys already decrypted are reused.
func (m *keyManager) load(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	var rows []signingKeyRow
	now := m.now()
	if err := database.Conn(ctx, m.db).Where("expires_at IS NULL OR expires_at > ?", now).
		Order("created_at").Find(&rows).Error; err != nil {
		return fmt.Errorf("oidc: load signing keys: %w", err)
	}
	m.mu.RLock()
	old := m.byID
	m.mu.RUnlock()
	byID := make(map[string]*signingKey, len(rows))
	active := map[jose.SignatureAlgorithm]*signingKey{}
	for _, r := range rows {
		var k *signingKey
		if prev, ok := old[r.ID]; ok {
			cp := *prev
			k = &cp
		} else {
			var err error
			if k, err = m.decode(r); err != nil {
				return err
			}
		}
		k.retiredAt, k.expiresAt, k.createdAt = r.RetiredAt, r.ExpiresAt, r.CreatedAt.UTC()
		byID[k.id] = k
		if k.isActive() {
			if a := active[k.alg]; a == nil || k.createdAt.After(a.createdAt) || (k.createdAt.Equal(a.createdAt) && k.id > a.id) {
				active[k.alg] = k
			}
		}
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	slices.Reverse(ids) // newest first (UUIDv7)
	for _, id := range ids {
		set.Keys = append(set.Keys, byID[id].public().jwk())
	}
	jwksJSON, err := json.Marshal(set)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.byID, m.active, m.jwksJSON, m.loadedAt = byID, active, jwksJSON, m.now()
	m.mu.Unlock()
	return nil
}

func (m *keyManager) decode(r signingKeyRow) (*signingKey, error) {
	der, err := m.sealer.open(r.PrivateKey, []byte("signing-key:"+r.ID))
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", r.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", r.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("oidc: signing key %s: not a signer", r.ID)
	}
	k := &signingKey{id: r.ID, alg: jose.SignatureAlgorithm(r.Alg), priv: priv}
	jwk := jose.JSONWebKey{Key: priv, KeyID: r.ID}
	if k.atSigner, err = jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jwk}, (&jose.SignerOptions{}).WithType("at+jwt")); err != nil {
		return nil, err
	}
	return k, nil
}

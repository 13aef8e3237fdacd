package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	jose "github.com/go-jose/go-jose/v4"
)

type signingKeyRow struct {
	ID         string `gorm:"primaryKey"`
	Alg        string
	PrivateKey string // PKCS#8 DER sealed with the master key (crypto.go)
	CreatedAt  time.Time
	RetiredAt  *time.Time
	ExpiresAt  *time.Time // a retired key leaves the JWKS (and the table) after this
}

func (signingKeyRow) TableName() string { return "oidc_signing_keys" }

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
	m.byID, m.active, m.jwksDoc, m.loadedAt = byID, active, jwksDocument(jwksJSON), m.now()
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

package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/database"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// ensure creates a key for every algorithm that has no active one, then
// loads the key set. A missing RS256 key (first start: 2048-bit RSA
// generation takes 50-500 ms on a small machine, most of the start) is
// generated in the background so the server gets ready without it; until it
// is stored and published, everything that signs with it, publishes or
// rotates keys waits for it (waitPending), so no RS256 token is issued
// before its key is in the JWKS.
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
	var background []jose.SignatureAlgorithm
	for _, alg := range missing {
		if alg == jose.RS256 {
			background = append(background, alg)
			continue
		}
		if err := m.insertNew(ctx, alg); err != nil {
			return err
		}
	}
	if err := m.load(ctx); err != nil {
		return err
	}
	if len(background) > 0 {
		done := make(chan struct{})
		m.pending.Store(&done)
		ctx := context.WithoutCancel(ctx) // finished even when start-up gives up; Close waits
		go func() {
			defer close(done)
			var err error
			for _, alg := range background {
				if err = m.insertNew(ctx, alg); err != nil {
					break
				}
			}
			if err == nil {
				err = m.load(ctx)
			}
			if err != nil {
				m.pendingErr.Store(&err)
				if m.logger != nil {
					m.logger.Error("oidc: generating a signing key failed", slog.Any("error", err))
				}
			}
		}()
	}
	return nil
}

// waitPending waits for the key generation ensure left running, if any.
func (m *keyManager) waitPending() {
	if done := m.pending.Load(); done != nil {
		<-*done
	}
}

// rotate replaces the active key of every algorithm when force is set or it
// is older than the rotation period. The old key is retired: no longer used
// to sign, still published until every token it signed has expired. A
// compare-and-swap on retired_at keeps two replicas from rotating the same
// key twice.
func (m *keyManager) rotate(ctx context.Context, force bool) (bool, error) {
	m.waitPending()
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
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
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

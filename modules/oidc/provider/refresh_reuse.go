package provider

// The refresh reuse interval (Options.RefreshReuseInterval,
// GATEHOUSE_REFRESH_REUSE_INTERVAL). A backend-for-frontend whose session
// expires refreshes from several parallel requests, each presenting the same
// refresh token; strict rotation would treat all but the first as theft and
// revoke the grant under the winner. Within the interval of a token's
// rotation, a second redemption of that token is answered with the same
// successor the first one got (and fresh access and ID tokens of the same
// grant), as Dex's reuseInterval does.
//
// Handing out the same successor again without storing it: the successor of
// a rotated token is not random but derived from it, HMAC-SHA256 under a key
// derived from the master key (successorOf). Only its hash is stored, as for
// every refresh token; whoever presents the previous token within the
// interval gets the successor recomputed. Issuing a second, independent
// successor instead would fork the grant: a thief redeeming a stolen token
// inside the interval would hold a chain of their own that reuse detection
// never sees. With one successor the chain stays single, and whichever party
// uses it second is caught as before.
//
// Only the just-rotated token qualifies: once its successor has been used,
// the previous token is stale and presenting it revokes the grant, within
// the interval or not.

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// successorKeyInfo separates this use of the master key from every other.
const successorKeyInfo = "gatehouse oidc refresh-token successor v1"

// newSuccessorKey derives the HMAC key of successorOf from the master key.
func newSuccessorKey(masterKey []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, masterKey, nil, successorKeyInfo, 32)
}

// successorOf is the refresh token that replaces presented on rotation: as
// long and as unguessable as a random one (32 bytes, base64url), and the
// same every time it is computed.
func (p *Provider) successorOf(presented string) string {
	m := hmac.New(sha256.New, p.successorKey)
	m.Write([]byte(presented))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// concurrentRedemption answers a used refresh token presented again: within
// the reuse interval of its rotation, and while its successor is unused and
// alive, it returns the successor to hand out again (ok). Otherwise ok is
// false and the caller treats the token as replayed.
func (p *Provider) concurrentRedemption(ctx context.Context, used refreshTokenRow, presented string) (*refreshRequest, bool, error) {
	interval := p.opts.RefreshReuseInterval
	now := p.now()
	if interval <= 0 || used.UsedAt == nil || used.RevokedAt != nil || !now.Before(used.UsedAt.Add(interval)) {
		return nil, false, nil
	}
	next := p.successorOf(presented)
	var row refreshTokenRow
	err := database.Conn(ctx, p.db.Gorm).
		Where("token_hash = ? AND family_id = ? AND used_at IS NULL AND revoked_at IS NULL", secret.Hash(next), used.FamilyID).
		Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil // successor used (stale token), revoked, or not derived
	}
	if err != nil {
		return nil, false, err
	}
	if !now.Before(row.ExpiresAt) || !now.Before(row.FamilyExpiresAt) {
		return nil, false, nil
	}
	return &refreshRequest{row: row, scopes: row.Scopes, reissue: next}, true, nil
}

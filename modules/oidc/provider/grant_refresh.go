package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

type refreshTokenRow struct {
	ID        string `gorm:"primaryKey"`
	TokenHash string
	FamilyID  string
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string `gorm:"serializer:json"`
	AMR       []string `gorm:"column:amr;serializer:json"`
	ACR       string   `gorm:"column:acr"`
	// Resource is the API the authorization request named (RFC 8707); its
	// refreshes are for it unless they name it again (resource.go).
	Resource        string
	AuthTime        time.Time
	CreatedAt       time.Time
	ExpiresAt       time.Time
	FamilyExpiresAt time.Time
	UsedAt          *time.Time
	RevokedAt       *time.Time
}

func (refreshTokenRow) TableName() string { return "oidc_refresh_tokens" }

// refreshRequest is a refresh token being redeemed; it implements
// op.RefreshTokenRequest (and so op.IDTokenRequest).
type refreshRequest struct {
	row       refreshTokenRow
	scopes    []string
	presented string // the token as presented; its successor is derived from it
	reissue   string // set within the reuse interval: hand this successor out again
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.row.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.row.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.row.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.row.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.row.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// newRefreshToken creates the first token of a family (the grant): 32
// random bytes; only its SHA-256 is stored.
func (p *Provider) newRefreshToken(ctx context.Context, family refreshTokenRow, c *clients.Client) (string, error) {
	return p.storeRefreshToken(ctx, family, c, secret.Token(32))
}

// storeRefreshToken stores the hash of token as the family's newest
// refresh token (a new family's first, or a successor on rotation).
func (p *Provider) storeRefreshToken(ctx context.Context, family refreshTokenRow, c *clients.Client, token string) (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	now := p.now()
	row := family
	row.ID, row.TokenHash, row.CreatedAt, row.UsedAt, row.RevokedAt = id.String(), secret.Hash(token), now, nil, nil
	row.Scopes, row.AMR = nonNil(row.Scopes), nonNil(row.AMR)
	if row.FamilyExpiresAt.IsZero() {
		row.FamilyExpiresAt = now.Add(c.RefreshTTL())
	}
	row.ExpiresAt = now.Add(c.RefreshIdleTTL())
	if row.ExpiresAt.After(row.FamilyExpiresAt) {
		row.ExpiresAt = row.FamilyExpiresAt
	}
	if err := database.Conn(ctx, p.db.Gorm).Create(&row).Error; err != nil {
		return "", fmt.Errorf("oidc: store refresh token: %w", err)
	}
	return token, nil
}

// refreshByToken finds the refresh token for a grant request. A used token
// presented again means it was stolen or replayed: the whole family is
// revoked (OAuth 2.0 Security BCP §4.14.2) and the answer is invalid_grant,
// unless it is a concurrent redemption within the reuse interval
// (refresh_reuse.go), which gets the same successor again.
func (p *Provider) refreshByToken(ctx context.Context, token, clientID string) (*refreshRequest, error) {
	var row refreshTokenRow
	err := database.Conn(ctx, p.db.Gorm).Where("token_hash = ?", secret.Hash(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if row.ClientID != clientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was issued to another client")
	}
	if row.RevokedAt != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token revoked")
	}
	if row.UsedAt != nil {
		if again, ok, err := p.concurrentRedemption(ctx, row, token); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		} else if ok {
			return again, nil
		}
		if err := p.revokeGrant(ctx, row.FamilyID, "refresh.reuse_detected", row.ClientID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used; the grant is revoked")
	}
	now := p.now()
	if !now.Before(row.ExpiresAt) || !now.Before(row.FamilyExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	return &refreshRequest{row: row, scopes: row.Scopes, presented: token}, nil
}

// rotateRefreshToken marks the presented token used and issues its
// successor in one transaction; the compare-and-swap (used_at IS NULL) lets
// exactly one of two concurrent redemptions win. The loser is a replay,
// unless the reuse interval lets it have the winner's successor too.
func (p *Provider) rotateRefreshToken(ctx context.Context, r *refreshRequest, c *clients.Client) (string, error) {
	if r.reissue != "" {
		return r.reissue, nil
	}
	var next string
	replay := false
	err := database.Transact(ctx, p.db.Gorm, func(ctx context.Context) error {
		res := database.Conn(ctx, p.db.Gorm).Model(&refreshTokenRow{}).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", r.row.ID).Update("used_at", p.now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			replay = true
			return nil
		}
		fam := r.row
		fam.Scopes = r.scopes
		var err error
		next, err = p.storeRefreshToken(ctx, fam, c, p.successorOf(r.presented))
		return err
	})
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	if replay {
		var used refreshTokenRow
		if err := database.Conn(ctx, p.db.Gorm).Where("id = ?", r.row.ID).Take(&used).Error; err != nil {
			return "", oidc.ErrServerError().WithParent(err)
		}
		if again, ok, err := p.concurrentRedemption(ctx, used, r.presented); err != nil {
			return "", oidc.ErrServerError().WithParent(err)
		} else if ok {
			return again.reissue, nil
		}
		if err := p.revokeGrant(ctx, r.row.FamilyID, "refresh.reuse_detected", r.row.ClientID); err != nil {
			return "", oidc.ErrServerError().WithParent(err)
		}
		return "", oidc.ErrInvalidGrant().WithDescription("refresh token already used; the grant is revoked")
	}
	return next, nil
}

// nonNil stores an absent list as [] rather than null.
func nonNil(s []string) []string { return append([]string{}, s...) }

// GetRefreshTokenInfo (op.AuthStorage) answers op.ErrInvalidRefreshToken for
// anything that is not one of our refresh tokens.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var row refreshTokenRow
	err := database.Conn(ctx, s.p.db.Gorm).Where("token_hash = ? AND client_id = ?", secret.Hash(token), clientID).Take(&row).Error
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return row.UserID, row.ID, nil
}

// RefreshToken redeems and rotates a refresh token (RFC 6749 §6): scopes
// the client may no longer use are dropped (the grant too when none is left),
// a narrower scope may be asked for (library check), a used token revokes
// the family. A grant whose authorization request named an API gives tokens
// for that API, resource= or not, and no other (RFC 8707 §2.2).
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	rt, err := s.p.refreshByToken(ctx, r.Data.RefreshToken, r.Client.GetID())
	if err != nil {
		return nil, err
	}
	if err := s.p.withdrawLostScopes(ctx, r.Client.(*opClient), rt); err != nil {
		return nil, err
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, rt); err != nil {
		return nil, err
	}
	rec := r.Client.(*opClient).rec
	target, err := s.p.tokenResource(ctx, r.Form[paramResource], rt.row.Resource)
	if err != nil {
		return nil, err
	}
	if _, err := s.p.userClaims(ctx, rt.row.UserID, nil, nil); err != nil {
		return nil, err // disabled or deleted user: the grant is dead
	}
	g := grant{
		subject: rt.row.UserID, clientID: rt.row.ClientID, scopes: rt.scopes, grantID: rt.row.FamilyID,
		sessionID: rt.row.SessionID, authTime: rt.row.AuthTime, amr: rt.row.AMR, acr: rt.row.ACR,
		idRequest: rt, rotate: rt, resource: target,
	}
	resp, err := s.p.issueTokens(ctx, rec, g)
	if err != nil {
		return nil, err
	}
	return op.NewResponse(resp), nil
}

// withdrawLostScopes narrows a refresh to the scopes the client may still
// use (CONTRACT: a refreshed access token never carries a scope the client
// may no longer use); the successor token carries the narrowed list. When
// nothing but offline_access is left the grant is revoked: invalid_grant.
func (p *Provider) withdrawLostScopes(ctx context.Context, c *opClient, rt *refreshRequest) error {
	kept := c.usableScopes(rt.scopes)
	if len(kept) == len(rt.scopes) {
		return nil
	}
	if !slices.ContainsFunc(kept, func(s string) bool { return s != oidc.ScopeOfflineAccess }) {
		if err := p.revokeGrant(ctx, rt.row.FamilyID, "refresh.scopes_withdrawn", rt.row.ClientID); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return oidc.ErrInvalidGrant().WithDescription("the client may no longer use any scope of this grant; the grant is revoked")
	}
	rt.scopes = kept
	return nil
}

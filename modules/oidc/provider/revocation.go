package provider

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Revocation (RFC 7009): a refresh token revokes its whole grant (access
// tokens included, §2.1); an access token is added to the denylist until it
// expires. Tokens of other clients or unknown tokens are ignored (200).
func (s *server) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	token := r.Data.Token
	if r.Data.TokenTypeHint != "access_token" {
		var row refreshTokenRow
		if _, id, err := s.p.storage.GetRefreshTokenInfo(ctx, r.Client.GetID(), token); err == nil {
			if err := s.p.db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
				return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
			}
			if err := s.p.revokeGrant(ctx, row.FamilyID, "token.revoke", row.ClientID); err != nil {
				return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
			}
			return op.NewResponse(nil), nil
		}
	}
	claims, err := s.p.verifyAccessToken(ctx, token)
	if err != nil && !errors.Is(err, ErrInvalidToken) {
		return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
	}
	if err != nil || claims.ClientID != r.Client.GetID() {
		return op.NewResponse(nil), nil
	}
	err = s.p.revokeAccessToken(ctx, claims.JWTID, claims.ClientID, claims.Expiration.AsTime())
	if err != nil {
		return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
	}
	return op.NewResponse(nil), nil
}

func (p *Provider) revokeAccessToken(ctx context.Context, jti, clientID string, exp time.Time) error {
	return runTx(ctx, p, func(ctx context.Context) error {
		if err := p.revoked.record(ctx, jti, revokedAccessToken, exp); err != nil {
			return err
		}
		return p.record(ctx, audit.Event{Action: "token.revoke", Target: audit.Ref{Type: "client", ID: clientID},
			Details: map[string]string{"jti": jti}})
	})
}

// revokeGrant revokes every token of a grant: its refresh token family and
// (through the denylist, by grant id) its access tokens. The event is
// audited in the same transaction.
func (p *Provider) revokeGrant(ctx context.Context, grantID, action, clientID string) error {
	return database.Transact(ctx, p.db.Gorm, func(ctx context.Context) error {
		now := p.now()
		if err := database.Conn(ctx, p.db.Gorm).Model(&refreshTokenRow{}).
			Where("family_id = ? AND revoked_at IS NULL", grantID).Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := p.revoked.record(ctx, grantID, revokedGrant, now.Add(clients.MaxTokenTTL+time.Hour)); err != nil {
			return err
		}
		if action == "" {
			return nil
		}
		outcome := audit.Success
		if action != "token.revoke" {
			outcome = audit.Failure
		}
		return p.record(ctx, audit.Event{Action: action, Target: audit.Ref{Type: "client", ID: clientID}, Outcome: outcome,
			Details: map[string]string{"grant_id": grantID}})
	})
}

// revokeUserGrants revokes every refresh token family of a user with a
// client (or all clients when clientID is ""), e.g. on sign-out.
// RevokeSessionGrants revokes the grants (refresh token families and the
// access tokens they issued) that user userID's browser session sessionID
// gave apps, or every grant of the user when sessionID is "": an
// administrator ending sessions signs the user out of the apps too.
func (p *Provider) RevokeSessionGrants(ctx context.Context, userID, sessionID string) error {
	return p.revokeUserGrants(ctx, userID, "", sessionID)
}

func (p *Provider) revokeUserGrants(ctx context.Context, userID, clientID, sessionID string) error {
	q := database.Conn(ctx, p.db.Gorm).Model(&refreshTokenRow{}).Distinct("family_id").Where("user_id = ? AND revoked_at IS NULL", userID)
	if clientID != "" {
		q = q.Where("client_id = ?", clientID)
	}
	if sessionID != "" {
		q = q.Where("session_id = ?", sessionID)
	}
	var families []string
	if err := q.Pluck("family_id", &families).Error; err != nil {
		return err
	}
	for _, f := range families {
		if err := p.revokeGrant(ctx, f, "", clientID); err != nil {
			return err
		}
	}
	return nil
}

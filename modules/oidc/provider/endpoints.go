package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// Introspect answers RFC 7662 for a client-authenticated caller; an
// unauthenticated one gets 401. Access tokens are verified offline plus a
// revocation look-up; refresh tokens are reported to the client they were
// issued to. Anything else, expired or revoked is {"active": false}.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	caller, err := s.p.authenticateClient(ctx, r.Data.ClientID, r.Data.ClientSecret)
	if err != nil {
		return nil, err
	}
	token := r.Data.Token
	if r.Form.Get("token_type_hint") != "refresh_token" || strings.Count(token, ".") == 2 {
		claims, err := s.p.verifyAccessTokenNow(ctx, token)
		if err == nil {
			return op.NewResponse(accessIntrospection(claims)), nil
		}
		if !errors.Is(err, ErrInvalidToken) {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	resp, err := s.p.introspectRefreshToken(ctx, caller.ID, token)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return op.NewResponse(resp), nil
}

func accessIntrospection(claims *oidc.AccessTokenClaims) *oidc.IntrospectionResponse {
	resp := &oidc.IntrospectionResponse{
		Active: true, Scope: claims.Scopes, ClientID: claims.ClientID, TokenType: oidc.BearerToken,
		Expiration: claims.Expiration, IssuedAt: claims.IssuedAt, AuthTime: claims.AuthTime,
		NotBefore: claims.NotBefore, Subject: claims.Subject, Audience: claims.Audience,
		AuthenticationMethodsReferences: claims.AuthenticationMethodsReferences,
		Issuer:                          claims.Issuer, JWTID: claims.JWTID,
	}
	for _, k := range []string{claimRoles, claimPermissions} {
		if v, ok := claims.Claims[k]; ok {
			if resp.Claims == nil {
				resp.Claims = map[string]any{}
			}
			resp.Claims[k] = v
		}
	}
	return resp
}

// introspectRefreshToken reports a live refresh token to the client it was
// issued to (RFC 7662 §2.2); for anyone else, or a used, revoked or expired
// one, it is inactive.
func (p *Provider) introspectRefreshToken(ctx context.Context, callerID, token string) (*oidc.IntrospectionResponse, error) {
	inactive := &oidc.IntrospectionResponse{}
	if token == "" || len(token) > 200 || strings.Contains(token, ".") {
		return inactive, nil
	}
	var row refreshTokenRow
	err := database.Conn(ctx, p.db.Gorm).Where("token_hash = ?", secret.Hash(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, err
	}
	now := p.now()
	if row.ClientID != callerID || row.UsedAt != nil || row.RevokedAt != nil ||
		!now.Before(row.ExpiresAt) || !now.Before(row.FamilyExpiresAt) {
		return inactive, nil
	}
	return &oidc.IntrospectionResponse{
		Active: true, Scope: row.Scopes, ClientID: row.ClientID, TokenType: "refresh_token",
		Expiration: oidc.FromTime(row.ExpiresAt), IssuedAt: oidc.FromTime(row.CreatedAt),
		AuthTime: oidc.FromTime(row.AuthTime), Subject: row.UserID, Issuer: p.issuer,
		AuthenticationMethodsReferences: row.AMR,
	}, nil
}

// UserInfo (OpenID Connect Core 1.0 §5.3) answers the claims of the access
// token's scopes via claimsFor. Client-credentials tokens have no user.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := s.p.verifyAccessTokenNow(ctx, r.Data.AccessToken)
	if err != nil || claims.Subject == claims.ClientID {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), http.StatusUnauthorized)
	}
	// The permissions claim, like roles, reflects the user's rights now
	// (OpenID Connect Core 1.0 §5.3: userinfo returns current claims).
	rec, err := s.p.client(ctx, claims.ClientID)
	if err != nil {
		return nil, err // verifyAccessTokenNow saw the client: a server fault
	}
	perms, err := s.p.permissionsFor(ctx, &rec, claims.Subject)
	if err != nil {
		return nil, err
	}
	uc, err := s.p.userClaims(ctx, claims.Subject, claims.Scopes, perms)
	if err != nil {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("user unavailable"), http.StatusUnauthorized)
	}
	info := new(oidc.UserInfo)
	setUserInfo(info, uc)
	return op.NewResponse(info), nil
}

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

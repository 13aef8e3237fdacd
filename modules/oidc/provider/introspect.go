package provider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"
)

// Introspect answers RFC 7662 for a client-authenticated caller; an
// unauthenticated one gets 401. Access tokens are verified offline plus a
// revocation look-up, and are reported only to the client they were issued
// to or to a client registered for an API in their aud (mayIntrospect, RFC
// 7662 §4); refresh tokens only to the client they were issued to. Anything
// else, expired or revoked is {"active": false}.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	caller, err := s.p.authenticateClient(ctx, r.Data.ClientID, r.Data.ClientSecret)
	if err != nil {
		return nil, err
	}
	token := r.Data.Token
	if r.Form.Get("token_type_hint") != "refresh_token" || strings.Count(token, ".") == 2 {
		claims, err := s.p.verifyAccessToken(ctx, token)
		if err == nil {
			ok, err := s.p.mayIntrospect(ctx, caller.ID, claims)
			if err != nil {
				return nil, oidc.ErrServerError().WithParent(err)
			}
			if !ok {
				return op.NewResponse(&oidc.IntrospectionResponse{}), nil
			}
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

// mayIntrospect: is callerID the client the token was issued to, or one
// registered for an API the token's aud names? RFC 7662 §4 lets the server
// answer inactive to a caller that is not the token's audience, so a
// client cannot learn about other clients' users through their tokens.
func (p *Provider) mayIntrospect(ctx context.Context, callerID string, claims *oidc.AccessTokenClaims) (bool, error) {
	if claims.ClientID == callerID || slices.Contains(claims.Audience, callerID) {
		return true, nil
	}
	if p.opts.Resources == nil {
		return false, nil
	}
	for _, aud := range claims.Audience {
		r, err := p.opts.Resources.ByIdentifier(ctx, aud)
		if errors.Is(err, resources.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if r.HasClient(callerID) {
			return true, nil
		}
	}
	return false, nil
}

// introspectionJSON is RFC 7662's answer for an active access token. It is
// encoded by encoding/json as it is: the library's IntrospectionResponse
// marshals itself, and with private claims decodes and re-encodes itself
// through a map to merge them — a tenth of an introspection's CPU. The
// members and their omission are the library's.
type introspectionJSON struct {
	Active      bool     `json:"active"`
	Scope       string   `json:"scope,omitempty"`
	ClientID    string   `json:"client_id,omitempty"`
	TokenType   string   `json:"token_type,omitempty"`
	Expiration  int64    `json:"exp,omitempty"`
	IssuedAt    int64    `json:"iat,omitempty"`
	AuthTime    int64    `json:"auth_time,omitempty"`
	NotBefore   int64    `json:"nbf,omitempty"`
	Subject     string   `json:"sub,omitempty"`
	Audience    []string `json:"aud,omitempty"`
	AMR         []string `json:"amr,omitempty"`
	Issuer      string   `json:"iss,omitempty"`
	JWTID       string   `json:"jti,omitempty"`
	Roles       any      `json:"roles,omitempty"`
	Permissions any      `json:"permissions,omitempty"`
}

func accessIntrospection(claims *oidc.AccessTokenClaims) *introspectionJSON {
	return &introspectionJSON{
		Active: true, Scope: strings.Join(claims.Scopes, " "), ClientID: claims.ClientID, TokenType: oidc.BearerToken,
		Expiration: int64(claims.Expiration), IssuedAt: int64(claims.IssuedAt), AuthTime: int64(claims.AuthTime),
		NotBefore: int64(claims.NotBefore), Subject: claims.Subject, Audience: claims.Audience,
		AMR: claims.AuthenticationMethodsReferences, Issuer: claims.Issuer, JWTID: claims.JWTID,
		Roles: claims.Claims[claimRoles], Permissions: claims.Claims[claimPermissions],
	}
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

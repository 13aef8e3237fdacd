package provider

import (
	"context"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// UserInfo (OpenID Connect Core 1.0 §5.3) answers the claims of the access
// token's scopes via claimsFor. Client-credentials tokens have no user.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := s.p.verifyAccessToken(ctx, r.Data.AccessToken)
	if err != nil || claims.Subject == claims.ClientID {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), http.StatusUnauthorized)
	}
	// The permissions claim, like roles, reflects the user's rights now
	// (OpenID Connect Core 1.0 §5.3: userinfo returns current claims).
	rec, err := s.p.client(ctx, claims.ClientID)
	if err != nil {
		return nil, err // verifyAccessToken saw the client: a server fault
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

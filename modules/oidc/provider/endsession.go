package provider

import (
	"context"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// logoutConfirmURL is the pages' /logout, which asks before signing out
// when the request carried no valid id_token_hint.
func (p *Provider) logoutConfirmURL(r *op.EndSessionRequest) string {
	q := url.Values{}
	if r.ClientID != "" && r.RedirectURI != "" && !strings.HasPrefix(r.RedirectURI, p.issuer+"/logout") {
		q.Set("post_logout_redirect_uri", r.RedirectURI)
	}
	if len(q) == 0 {
		return "/logout"
	}
	return "/logout?" + q.Encode()
}

// TerminateSession (op.AuthStorage) revokes the user's grants with the client.
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return s.p.revokeUserGrants(ctx, userID, clientID, "")
}

// TerminateSessionFromRequest (op.CanTerminateSessionFromRequest) ends the
// browser session named by the id_token_hint's sid (through the pages'
// sessionStore) and revokes that session's grants with the client. Without
// a valid hint nothing is ended here: the browser goes to /logout, which asks
// first (RP-Initiated Logout 1.0 §2).
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	if r.IDTokenHintClaims == nil {
		return s.p.logoutConfirmURL(r), nil
	}
	sid, _ := r.IDTokenHintClaims.Claims[claimSessionID].(string)
	if sid != "" && s.p.sessions != nil {
		if err := s.p.sessions.EndSession(ctx, sid); err != nil {
			return "", oidc.ErrServerError().WithParent(err)
		}
	}
	if err := s.p.revokeUserGrants(ctx, r.UserID, r.ClientID, sid); err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	return r.RedirectURI, nil
}

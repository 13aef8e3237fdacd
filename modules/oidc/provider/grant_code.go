package provider

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// CodeExchange redeems an authorization code (RFC 6749 §4.1.3): the code is
// single-use (storage.AuthRequestByCode), PKCE is verified by the library,
// and the tokens are issued by issueTokens.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	req, err := s.p.storage.AuthRequestByCode(ctx, r.Data.Code)
	if err != nil {
		return nil, err
	}
	a := req.(*authRequest)
	if r.Client.GetID() != a.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("code was issued to another client")
	}
	if r.Client.AuthMethod() == oidc.AuthMethodNone || r.Data.CodeVerifier != "" || a.CodeChallenge != "" {
		if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, a.GetCodeChallenge()); err != nil {
			return nil, err
		}
	}
	if r.Data.RedirectURI != a.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match")
	}
	rec := r.Client.(*opClient).rec
	target, err := s.p.tokenResource(ctx, r.Form[paramResource], a.Resource)
	if err != nil {
		return nil, err
	}
	if _, err := s.p.userClaims(ctx, a.authn.UserID, nil, nil); err != nil {
		return nil, err // disabled or deleted since signing in
	}
	g := grant{
		subject: a.authn.UserID, clientID: a.ClientID, scopes: a.Scopes, grantID: a.grantID,
		sessionID: a.authn.SessionID, authTime: a.authn.AuthTime, amr: a.authn.AMR, acr: a.authn.ACR,
		idRequest: a, code: r.Data.Code, resource: target, boundResource: a.Resource,
	}
	if containsScope(a.Scopes, scopeOfflineAccess) && rec.Allows(clients.GrantRefreshToken) {
		g.newFamily = true
	}
	resp, err := s.p.issueTokens(ctx, rec, g)
	if err != nil {
		return nil, err
	}
	_ = s.p.storage.DeleteAuthRequest(ctx, a.ID)
	return op.NewResponse(resp), nil
}

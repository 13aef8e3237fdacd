package provider

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	jose "github.com/go-jose/go-jose/v4"
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
	if _, err := s.p.userClaims(ctx, a.authn.UserID, nil, nil); err != nil {
		return nil, err // disabled or deleted since signing in
	}
	g := grant{
		subject: a.authn.UserID, clientID: a.ClientID, scopes: a.Scopes, grantID: a.grantID,
		sessionID: a.authn.SessionID, authTime: a.authn.AuthTime, amr: a.authn.AMR, acr: a.authn.ACR,
		idRequest: a, code: r.Data.Code,
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

// RefreshToken redeems and rotates a refresh token (RFC 6749 §6): a
// narrower scope may be asked for (library check), a used token revokes
// the family.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	rt, err := s.p.refreshByToken(ctx, r.Data.RefreshToken, r.Client.GetID())
	if err != nil {
		return nil, err
	}
	if err := op.ValidateRefreshTokenScopes(r.Data.Scopes, rt); err != nil {
		return nil, err
	}
	rec := r.Client.(*opClient).rec
	if _, err := s.p.userClaims(ctx, rt.row.UserID, nil, nil); err != nil {
		return nil, err // disabled or deleted user: the grant is dead
	}
	g := grant{
		subject: rt.row.UserID, clientID: rt.row.ClientID, scopes: rt.scopes, grantID: rt.row.FamilyID,
		sessionID: rt.row.SessionID, authTime: rt.row.AuthTime, amr: rt.row.AMR, acr: rt.row.ACR,
		idRequest: rt, rotate: rt,
	}
	resp, err := s.p.issueTokens(ctx, rec, g)
	if err != nil {
		return nil, err
	}
	return op.NewResponse(resp), nil
}

// ClientCredentialsExchange issues a client's own access token (RFC 6749
// §4.4): no refresh token, no ID token, no database write.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	tr, err := s.p.storage.ClientCredentialsTokenRequest(ctx, r.Client.GetID(), r.Data.Scope)
	if err != nil {
		return nil, err
	}
	rec := r.Client.(*opClient).rec
	exp := s.p.now().Add(rec.AccessTTL())
	token, _, err := s.p.mintAccessToken(s.p.issuer, accessToken{
		Subject: rec.ID, ClientID: rec.ID, Scopes: tr.GetScopes(), Expires: exp,
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: token, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(rec.AccessTTL() / time.Second), Scope: tr.GetScopes(),
	}), nil
}

// grant is what a user token response is issued from.
type grant struct {
	subject, clientID string
	scopes            []string
	grantID           string
	sessionID         string
	authTime          time.Time
	amr               []string
	acr               string
	idRequest         op.IDTokenRequest
	code              string
	newFamily         bool            // start a refresh token family (code + offline_access)
	rotate            *refreshRequest // rotate this refresh token
}

// issueTokens composes the token response of the code and refresh grants:
// an RFC 9068 access token (server algorithm), a rotated or new refresh
// token, and an ID token signed with the client's algorithm by the library's
// op.CreateIDToken (at_hash, c_hash, nonce, auth_time, amr, acr).
func (p *Provider) issueTokens(ctx context.Context, c clients.Client, g grant) (*oidc.AccessTokenResponse, error) {
	var roles []string
	if containsScope(g.scopes, scopeRoles) {
		var err error
		if roles, err = p.users.RolesOf(ctx, g.subject); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		if roles == nil {
			roles = []string{}
		}
	}
	// Computed at issuance, once for both tokens; nil unless the client
	// has the permissions claim option.
	perms, err := p.permissionsFor(ctx, &c, g.subject)
	if err != nil {
		return nil, err
	}
	var refresh string
	switch {
	case g.rotate != nil:
		refresh, err = p.rotateRefreshToken(ctx, g.rotate, &c)
	case g.newFamily:
		refresh, err = p.newRefreshToken(ctx, refreshTokenRow{
			FamilyID: g.grantID, ClientID: g.clientID, UserID: g.subject, SessionID: g.sessionID,
			Scopes: g.scopes, AMR: nonNil(g.amr), ACR: g.acr, AuthTime: g.authTime,
		}, &c)
		if err != nil {
			err = oidc.ErrServerError().WithParent(err)
		}
	}
	if err != nil {
		return nil, err
	}
	ttl := c.AccessTTL()
	access, _, err := p.mintAccessToken(p.issuer, accessToken{
		Subject: g.subject, ClientID: g.clientID, Scopes: g.scopes, GrantID: g.grantID, SessionID: g.sessionID,
		AuthTime: g.authTime, AMR: g.amr, ACR: g.acr, Roles: roles, Permissions: perms, Expires: p.now().Add(ttl),
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: access, RefreshToken: refresh, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(ttl / time.Second), Scope: g.scopes,
	}
	if containsScope(g.scopes, scopeOpenID) {
		key, err := p.keys.activeKey(jose.SignatureAlgorithm(c.IDTokenAlg))
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		ctx = op.ContextWithIssuer(ctx, p.issuer)
		ctx = withIssuedPermissions(ctx, perms) // nil too: no second look-up
		idt, err := op.CreateIDToken(ctx, p.issuer, g.idRequest, c.IDTTL(), access, g.code,
			idTokenStorage{storage: p.storage, key: key}, &opClient{rec: c})
		if err != nil {
			return nil, err
		}
		resp.IDToken = idt
	}
	return resp, nil
}

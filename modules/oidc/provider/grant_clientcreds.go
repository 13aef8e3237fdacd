package provider

import (
	"context"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientCredentialsExchange issues a client's own access token (RFC 6749
// §4.4): no refresh token, no ID token, no database write.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	tr, err := s.p.storage.ClientCredentialsTokenRequest(ctx, r.Client.GetID(), r.Data.Scope)
	if err != nil {
		return nil, err
	}
	rec := r.Client.(*opClient).rec
	target, err := s.p.tokenResource(ctx, r.Form[paramResource], "")
	if err != nil {
		return nil, err
	}
	aud, scopes := forResource(target, tr.GetScopes())
	exp := s.p.now().Add(rec.AccessTTL())
	token, _, err := s.p.mintAccessToken(s.p.issuer, accessToken{
		Subject: rec.ID, ClientID: rec.ID, Audience: aud, Scopes: scopes, Expires: exp, Alg: rec.AccessTokenAlg,
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: token, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(rec.AccessTTL() / time.Second), Scope: scopes,
	}), nil
}

// ClientCredentials (op.ClientCredentialsStorage).
func (s *storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	rec, err := s.p.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	return &opClient{rec: rec}, nil
}

// clientCredentialsRequest is the token request of a client acting for
// itself (RFC 6749 §4.4): sub = client_id.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string { return r.clientID }

func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }

func (r *clientCredentialsRequest) GetScopes() []string { return r.scopes }

// ClientCredentialsTokenRequest (op.ClientCredentialsStorage): every
// requested scope must be allowed for the client (RFC 6749 §3.3: invalid_scope).
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	rec, err := s.p.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	allowed := rec.AllowedScopes()
	if len(scopes) == 0 && len(rec.Scopes) > 0 {
		// RFC 6749 §3.3: without a scope parameter, the client's registered
		// scopes are the default.
		scopes = slices.Clone(rec.Scopes)
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", sc)
		}
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: scopes}, nil
}

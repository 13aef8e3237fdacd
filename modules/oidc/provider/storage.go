package provider

import (
	"context"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is zitadel/oidc's op.Storage over the oidc module's tables, with
// users and roles from UserDirectory. Optional interfaces are declared on
// purpose: implementing a method silently enables a grant in the library.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil) // enables client_credentials
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil) // ID-token claims from the request (sid, roles)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil) // RP-initiated logout ends the session named by sid
	// Deliberately NOT implemented: op.TokenExchangeStorage (RFC 8693),
	// op.DeviceAuthorizationStorage (RFC 8628), op.JWTProfileTokenStorage.
)

// GetClientByClientID (op.OPStorage): cached; an unknown client is
// invalid_client, a database fault server_error.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	rec, err := s.p.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return &opClient{rec: rec}, nil
}

// AuthorizeClientIDSecret (op.OPStorage).
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	_, err := s.p.authenticateClient(ctx, clientID, secret)
	return err
}

// CreateAccessToken and CreateAccessAndRefreshTokens (op.AuthStorage) are
// not reached: every token response is composed in server.go, which signs
// RFC 9068 access tokens itself (the library's signer cannot set typ
// at+jwt). Failing closed keeps any unexpected library path from minting.
func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, oidc.ErrServerError().WithDescription("unsupported token path")
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrServerError().WithDescription("unsupported token path")
}

// RevokeToken (op.AuthStorage) is not reached: revocation is composed in
// server.go so the access token's expiry is known.
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithDescription("unsupported revocation path")
}

// SigningKey (op.AuthStorage): the RS256 key; ID tokens use idTokenStorage
// for the client's algorithm.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.activeKey(jose.RS256)
}

// SignatureAlgorithms (op.AuthStorage): id_token_signing_alg_values_supported.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return slices.Clone(keyAlgs), nil
}

// KeySet (op.AuthStorage): every published key, retired ones included until
// the tokens they signed have expired.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	pub := s.p.keys.published()
	out := make([]op.Key, len(pub))
	for i, k := range pub {
		out[i] = k.public()
	}
	return out, nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest
// does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest (op.CanSetUserinfoFromRequest) fills the ID token's
// user claims through claimsFor, plus sid and, for refreshed ID tokens, acr.
// The permissions claim reuses what issueTokens computed for the access
// token; reached any other way, it is computed for the request's client.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	perms, ok := issuedPermissions(ctx)
	if !ok {
		rec, err := s.p.client(ctx, r.GetClientID())
		if err != nil {
			return err
		}
		if perms, err = s.p.permissionsFor(ctx, &rec, r.GetSubject()); err != nil {
			return err
		}
	}
	claims, err := s.p.userClaims(ctx, r.GetSubject(), scopes, perms)
	if err != nil {
		return err
	}
	setUserInfo(info, claims)
	switch req := r.(type) {
	case *authRequest:
		if sid := req.sessionID(); sid != "" {
			info.AppendClaims(claimSessionID, sid)
		}
	case *refreshRequest:
		if req.row.SessionID != "" {
			info.AppendClaims(claimSessionID, req.row.SessionID)
		}
		if req.row.ACR != "" {
			info.AppendClaims("acr", req.row.ACR)
		}
	}
	return nil
}

// SetUserinfoFromToken (op.OPStorage) is not reached: /userinfo is served in
// server.go from the verified access token.
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errors.New("oidc: unsupported userinfo path")
}

// SetIntrospectionFromToken (op.OPStorage) is not reached: introspection is
// served in server.go from the verified access token.
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("oidc: unsupported introspection path")
}

// GetPrivateClaimsFromScopes (op.OPStorage): no private claims via the
// library's own access-token path (unused, see CreateAccessToken).
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID (op.OPStorage): private_key_jwt and the JWT profile
// grant are not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("client keys are not supported")
}

// ValidateJWTProfileScopes (op.OPStorage): JWT profile grant not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// Health (op.Storage).
func (s *storage) Health(ctx context.Context) error {
	return s.p.db.SQL().PingContext(ctx)
}

// idTokenStorage signs ID tokens with the client's chosen algorithm
// (id_token_signed_response_alg, OpenID Connect Dynamic Registration §2).
type idTokenStorage struct {
	*storage
	key op.SigningKey
}

func (s idTokenStorage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

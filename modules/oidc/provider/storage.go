package provider

import (
	"context"
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

// SigningKey (op.AuthStorage): the RS256 key; ID tokens use idTokenStorage
// for the client's algorithm.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.activeKey(jose.RS256)
}

// SignatureAlgorithms (op.AuthStorage): id_token_signing_alg_values_supported,
// the algorithms a client may choose for its ID tokens (EdDSA signs only
// access tokens, which discovery has no field for).
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
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

// ---------------------------------------------------------------------------
// Unreachable: the endpoints Gatehouse owns (see server.go).
//
// op.Storage requires the seven methods below, but the library calls them
// only from its own token, introspection, revocation and userinfo handlers,
// which server.go replaces. Each says which endpoint and why, and fails
// closed with an error, so that a library path we did not expect cannot
// mint, revoke or describe a token behind our back.
// ---------------------------------------------------------------------------

// errUnreachable is what every stub below answers.
func errUnreachable(endpoint string) *oidc.Error {
	return oidc.ErrServerError().WithDescription("oidc: unreachable: %s is served by Gatehouse, not the library", endpoint)
}

// CreateAccessToken (op.AuthStorage) is unreachable: server.go serves
// /oauth/token itself (issue.go, grant_*.go) because RFC 9068 access tokens
// need the typ at+jwt header, which the library's signer cannot set; the
// library never calls this.
func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errUnreachable("/oauth/token")
}

// CreateAccessAndRefreshTokens (op.AuthStorage) is unreachable: server.go
// serves /oauth/token itself (RFC 9068 typ at+jwt; refresh rotation in
// grant_refresh.go is one compare-and-swap); the library never calls this.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnreachable("/oauth/token")
}

// TokenRequestByRefreshToken (op.AuthStorage) is unreachable: server.go
// serves the refresh grant of /oauth/token itself (grant_refresh.go: it
// needs the authenticated client for reuse detection); the library never
// calls this.
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnreachable("/oauth/token (refresh_token)")
}

// GetPrivateClaimsFromScopes (op.OPStorage) is unreachable: the library asks
// for private claims only when it signs a JWT access token, and server.go
// serves /oauth/token itself (RFC 9068 typ at+jwt; our claims are set in
// accesstoken.go); the library never calls this.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, errUnreachable("/oauth/token (access token claims)")
}

// RevokeToken (op.AuthStorage) is unreachable: server.go serves
// /oauth/revoke itself (revocation.go) because revoking an RFC 9068 access
// token needs its expiry for the denylist and a refresh token revokes its
// whole grant; the library never calls this.
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return errUnreachable("/oauth/revoke")
}

// SetUserinfoFromToken (op.OPStorage) is unreachable: server.go serves
// /userinfo itself (userinfo.go) from the verified RFC 9068 access token
// (typ at+jwt, checked against the revocation denylist), with claims from
// claimsFor; the library never calls this.
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errUnreachable("/userinfo")
}

// SetIntrospectionFromToken (op.OPStorage) is unreachable: server.go serves
// /oauth/introspect itself (introspect.go) from the verified RFC 9068 access
// token plus the revocation denylist, and reports refresh tokens too; the
// library never calls this.
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnreachable("/oauth/introspect")
}

package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/modules/audit"
)

// Endpoint paths (advertised by discovery as absolute URLs under the issuer).
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathAuthorize  = "/authorize"
	pathCallback   = "/authorize/callback"
	pathToken      = "/oauth/token"
	pathIntrospect = "/oauth/introspect"
	pathRevoke     = "/oauth/revoke"
	pathUserinfo   = "/userinfo"
	pathEndSession = "/end_session"
	pathKeys       = "/keys"
)

var endpoints = op.Endpoints{
	Authorization: op.NewEndpoint(pathAuthorize),
	Token:         op.NewEndpoint(pathToken),
	Introspection: op.NewEndpoint(pathIntrospect),
	Userinfo:      op.NewEndpoint(pathUserinfo),
	Revocation:    op.NewEndpoint(pathRevoke),
	EndSession:    op.NewEndpoint(pathEndSession),
	JwksURI:       op.NewEndpoint(pathKeys),
	// DeviceAuthorization nil: the device flow is not offered.
}

// grantTypesSupported is exactly what the token endpoint accepts (a test pins it).
var grantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}

func (p *Provider) buildHandler() error {
	cfg := &op.Config{
		CryptoKey:                derivedKey(p.opts.MasterKey, "op-crypto"),
		DefaultLogoutRedirectURI: p.issuer + "/logout",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          supportedScopes,
		SupportedClaims: append(append([]string{}, op.DefaultSupportedClaims...),
			"roles", "sid", "updated_at", "scope"),
	}
	var opts []op.Option
	if strings.HasPrefix(p.issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	opts = append(opts, op.WithCrypto(codeCrypto{}))
	provider, err := op.NewProvider(cfg, p.storage, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return err
	}
	p.op = provider
	srv := &server{LegacyServer: op.NewLegacyServer(provider, endpoints), p: p}
	p.handler = requireIntrospectionAuth(op.RegisterLegacyServer(srv, op.AuthorizeCallbackHandler(provider)))
	return nil
}

// requireIntrospectionAuth answers 401 invalid_client when an introspection
// request carries no client credentials at all (RFC 7662 §2.1 requires
// client authentication; the library would answer 400). Wrong credentials
// get 401 from server.Introspect. It also marks token-bearing responses
// uncacheable (RFC 6749 §5.1), which the library does not.
func requireIntrospectionAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathToken, pathIntrospect, pathUserinfo, pathRevoke:
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
		}
		if r.URL.Path == pathIntrospect && r.Method == http.MethodPost {
			if _, _, ok := r.BasicAuth(); !ok {
				if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" || r.PostForm.Get("client_secret") == "" {
					w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Cache-Control", "no-store")
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication is required"}`))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// renderDiscovery renders the discovery document once (the issuer is
// static), from the library's configuration, trimmed to what we serve.
func (p *Provider) renderDiscovery() error {
	ctx := op.ContextWithIssuer(context.Background(), p.issuer)
	resp, err := op.NewLegacyServer(p.op, endpoints).Discovery(ctx, &op.Request[struct{}]{})
	if err != nil {
		return err
	}
	d := resp.Data.(*oidc.DiscoveryConfiguration)
	d.GrantTypesSupported = grantTypesSupported
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	// form_post works for successful responses, but the pages' error
	// redirects (failRequest) are query-only, so only query is advertised.
	d.ResponseModesSupported = []string{"query"}
	d.DeviceAuthorizationEndpoint = ""
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.ClaimsParameterSupported = false
	d.RequestURIParameterSupported = false
	d.UserinfoSigningAlgValuesSupported = nil
	d.ACRValuesSupported = []string{ACRPassword, ACRPhishingResistant}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	p.discovery = b
	return nil
}

// Handler is the op handler alone (for tests and benchmarks): every
// OAuth/OIDC endpoint, discovery and JWKS served from cached bytes.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathDiscovery, p.serveDiscovery)
	mux.HandleFunc("GET "+pathKeys, p.serveKeys)
	mux.Handle("/", p.handler)
	return mux
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.discovery)
}

// serveKeys answers the JWKS from the key manager's cached bytes; the short
// max-age lets clients see a rotation quickly.
func (p *Provider) serveKeys(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.keys.jwks())
}

// mountPublic puts the provider's endpoints on the public group.
func (p *Provider) mountPublic(g *echo.Group) {
	g.GET(pathDiscovery, echo.WrapHandler(http.HandlerFunc(p.serveDiscovery)))
	g.GET(pathKeys, echo.WrapHandler(http.HandlerFunc(p.serveKeys)))
	h := echo.WrapHandler(p.handler)
	for _, path := range []string{pathAuthorize, pathCallback, pathUserinfo, pathEndSession} {
		g.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, path, h)
	}
	for _, path := range []string{pathToken, pathIntrospect, pathRevoke} {
		g.Match([]string{http.MethodPost, http.MethodOptions}, path, h)
	}
}

// server is the library's LegacyServer with the endpoints we compose
// ourselves overridden (see each method for why).
type server struct {
	*op.LegacyServer
	p *Provider
}

// VerifyClient authenticates the client at the token and revocation
// endpoints: client_secret_basic or client_secret_post for confidential
// clients, none (client_id only) for public ones; JWT assertions are not
// accepted. A failure is invalid_client with 401 (RFC 6749 §5.2).
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	if r.Data.ClientAssertion != "" || r.Data.ClientAssertionType != "" {
		return nil, oidc.ErrInvalidClient().WithDescription("client assertions are not supported")
	}
	rec, err := s.p.clientRecord(ctx, r.Data.ClientID)
	if err != nil {
		return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
	}
	if rec.Public {
		if r.Data.ClientSecret != "" {
			return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("public clients have no secret"), http.StatusUnauthorized)
		}
		return &opClient{rec: rec}, nil
	}
	if _, err := s.p.authenticateClient(ctx, r.Data.ClientID, r.Data.ClientSecret); err != nil {
		return nil, err
	}
	return &opClient{rec: rec}, nil
}

// Authorize adds our PKCE policy (RFC 7636; OAuth 2.0 Security BCP §2.1.1)
// before the library stores the request: S256 only, and required for public
// clients. The error is redirected to the (validated) redirect_uri.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	d := r.Data
	if d.CodeChallenge != "" && d.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if d.CodeChallenge == "" && r.Client.AuthMethod() == oidc.AuthMethodNone {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for public clients")
	}
	return s.LegacyServer.Authorize(ctx, r)
}

// JWTProfile: the JWT bearer grant (RFC 7523) is not offered.
func (s *server) JWTProfile(context.Context, *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("grant type not supported")
}

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
	if _, err := s.p.userClaims(ctx, a.authn.UserID, nil); err != nil {
		return nil, err // disabled or deleted since signing in
	}
	g := grant{
		subject: a.authn.UserID, clientID: a.ClientID, scopes: a.Scopes, grantID: a.grantID,
		sessionID: a.authn.SessionID, authTime: a.authn.AuthTime, amr: a.authn.AMR, acr: a.authn.ACR,
		idRequest: a, code: r.Data.Code,
	}
	if containsScope(a.Scopes, scopeOfflineAccess) && rec.allows(GrantRefreshToken) {
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
	if _, err := s.p.userClaims(ctx, rt.row.UserID, nil); err != nil {
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
	exp := s.p.now().Add(rec.accessTTL())
	token, _, err := s.p.mintAccessToken(s.p.issuer, accessToken{
		Subject: rec.ID, ClientID: rec.ID, Scopes: tr.GetScopes(), Expires: exp,
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: token, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(rec.accessTTL() / time.Second), Scope: tr.GetScopes(),
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
func (p *Provider) issueTokens(ctx context.Context, c *clientRecord, g grant) (*oidc.AccessTokenResponse, error) {
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
	var refresh string
	var err error
	switch {
	case g.rotate != nil:
		refresh, err = p.rotateRefreshToken(ctx, g.rotate, &c.Client)
	case g.newFamily:
		refresh, err = p.newRefreshToken(ctx, refreshTokenRow{
			FamilyID: g.grantID, ClientID: g.clientID, UserID: g.subject, SessionID: g.sessionID,
			Scopes: g.scopes, AMR: nonNil(g.amr), ACR: g.acr, AuthTime: g.authTime,
		}, &c.Client)
		if err != nil {
			err = oidc.ErrServerError().WithParent(err)
		}
	}
	if err != nil {
		return nil, err
	}
	ttl := c.accessTTL()
	access, _, err := p.mintAccessToken(p.issuer, accessToken{
		Subject: g.subject, ClientID: g.clientID, Scopes: g.scopes, GrantID: g.grantID, SessionID: g.sessionID,
		AuthTime: g.authTime, AMR: g.amr, ACR: g.acr, Roles: roles, Expires: p.now().Add(ttl),
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
		idt, err := op.CreateIDToken(ctx, p.issuer, g.idRequest, c.idTTL(), access, g.code,
			idTokenStorage{storage: p.storage, key: key}, &opClient{rec: c})
		if err != nil {
			return nil, err
		}
		resp.IDToken = idt
	}
	return resp, nil
}

// Introspect answers RFC 7662 for a client-authenticated caller; an
// unauthenticated one gets 401. Any token we cannot verify, expired or
// revoked is {"active": false}.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	if _, err := s.p.authenticateClient(ctx, r.Data.ClientID, r.Data.ClientSecret); err != nil {
		return nil, err
	}
	claims, err := s.p.verifyAccessToken(ctx, r.Data.Token)
	if err != nil {
		return op.NewResponse(&oidc.IntrospectionResponse{}), nil
	}
	resp := &oidc.IntrospectionResponse{
		Active: true, Scope: claims.Scopes, ClientID: claims.ClientID, TokenType: oidc.BearerToken,
		Expiration: claims.Expiration, IssuedAt: claims.IssuedAt, AuthTime: claims.AuthTime,
		NotBefore: claims.NotBefore, Subject: claims.Subject, Audience: claims.Audience,
		AuthenticationMethodsReferences: claims.AuthenticationMethodsReferences,
		Issuer:                          claims.Issuer, JWTID: claims.JWTID,
	}
	if roles, ok := claims.Claims[claimRoles]; ok {
		resp.Claims = map[string]any{claimRoles: roles}
	}
	return op.NewResponse(resp), nil
}

// UserInfo (OpenID Connect Core 1.0 §5.3) answers the claims of the access
// token's scopes via claimsFor. Client-credentials tokens have no user.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := s.p.verifyAccessToken(ctx, r.Data.AccessToken)
	if err != nil || claims.Subject == claims.ClientID {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), http.StatusUnauthorized)
	}
	uc, err := s.p.userClaims(ctx, claims.Subject, claims.Scopes)
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

package provider

// The HTTP face of the provider. zitadel/oidc's op.LegacyServer
// routes every endpoint; the methods of server (below and in the files
// named) replace the library's handlers for the endpoints Gatehouse owns:
//
//	/oauth/token        CodeExchange (grant_code.go), RefreshToken
//	                    (grant_refresh.go), ClientCredentialsExchange
//	                    (grant_clientcreds.go), token exchange (grant_exchange.go,
//	                    served before the library: exchangeFirst); tokens composed in issue.go.
//	                    Why: RFC 9068 access tokens need the typ at+jwt header,
//	                    which the library's signer cannot set; refresh rotation
//	                    and code redemption are one compare-and-swap each.
//	/oauth/introspect   Introspect (introspect.go). Why: it verifies our
//	                    at+jwt tokens, checks the revocation denylist, and
//	                    reports refresh tokens to their own client (RFC 7662).
//	/oauth/revoke       Revocation (revocation.go). Why: an access token goes
//	                    on the denylist until its expiry; a refresh token
//	                    revokes its whole grant (RFC 7009 §2.1).
//	/userinfo           UserInfo (userinfo.go). Why: it verifies our at+jwt
//	                    token against the denylist, and claims (roles,
//	                    permissions now) come from claimsFor.
//	client auth         VerifyClient (here): secrets only, no JWT assertions.
//	/authorize          Authorize (here): our PKCE policy, then the library.
//	discovery, /keys    discovery.go: rendered once, served from cached bytes.
//
// The library keeps /authorize (request validation, storage.go), its
// callback and /end_session (endsession.go). The op.Storage methods of the
// endpoints above are stubs that say so, at the bottom of storage.go.

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
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
var grantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange}

func (p *Provider) buildHandler() error {
	cfg := &op.Config{
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
	return nil
}

// opHandler returns the library's HTTP handler, built on first use: the
// library logs every route it registers through the global slog logger, and
// CLI sub-commands, which never serve, must print nothing but their result.
func (p *Provider) opHandler() http.Handler {
	p.handlerOnce.Do(func() {
		srv := &server{LegacyServer: op.NewLegacyServer(p.op, endpoints), p: p}
		lib := op.RegisterLegacyServer(srv, op.AuthorizeCallbackHandler(p.op), op.WithServerCORSOptions(nil)) // CORS: cors.go
		p.handler = p.withCORS(requireIntrospectionAuth(p.bindBrowser(p.exchangeFirst(lib))))
	})
	return p.handler
}

// requireIntrospectionAuth answers 401 invalid_client to HTTP Basic client
// authentication with an empty password (emptyBasicSecret), 400 unsupported_grant_type for a grant
// the token endpoint does not offer (grantOffered), and 401 invalid_client when an introspection
// request carries no client credentials at all (RFC 7662 §2.1 requires
// client authentication; the library would answer 400). Wrong credentials
// get 401 from server.Introspect. It also marks token-bearing responses
// uncacheable (RFC 6749 §5.1) and adds the WWW-Authenticate challenge to
// every 401 (RFC 6749 §5.2), which the library does not.
func requireIntrospectionAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathToken, pathIntrospect, pathUserinfo, pathRevoke:
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			scheme := "Basic"
			if r.URL.Path == pathUserinfo {
				scheme = "Bearer"
			}
			w = &challengeWriter{ResponseWriter: w, challenge: scheme + ` realm="gatehouse"`}
		}
		if r.Method == http.MethodPost && emptyBasicSecret(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed: empty client secret"}`))
			return
		}
		if r.URL.Path == pathToken && r.Method == http.MethodPost && !grantOffered(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"unsupported_grant_type","error_description":"grant type not supported"}`))
			return
		}
		if r.URL.Path == pathIntrospect && r.Method == http.MethodPost {
			if _, _, ok := r.BasicAuth(); !ok {
				if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" || r.PostForm.Get("client_secret") == "" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication is required"}`))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// exchangeFirst serves the token exchange grant (grant_exchange.go) before
// the library sees the request.
func (p *Provider) exchangeFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathToken && r.Method == http.MethodPost && r.ParseForm() == nil &&
			oidc.GrantType(r.PostForm.Get("grant_type")) == oidc.GrantTypeTokenExchange {
			p.serveTokenExchange(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grantOffered reports whether a token request names a grant in
// grantTypesSupported (or none, which the library answers invalid_request).
// The library would answer unauthorized_client for a grant it knows but we
// do not offer (token exchange, device code) after authenticating the client;
// RFC 6749 §5.2 calls that unsupported_grant_type, whoever the client is.
func grantOffered(r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		return true // the library answers invalid_request
	}
	g := oidc.GrantType(r.PostForm.Get("grant_type"))
	return g == "" || slices.Contains(grantTypesSupported, g)
}

// challengeWriter adds WWW-Authenticate to a 401 answer.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Handler is the op handler alone (for tests and benchmarks): every
// OAuth/OIDC endpoint, discovery and JWKS served from cached bytes.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathDiscovery, p.serveDiscovery)
	mux.HandleFunc("GET "+pathKeys, p.serveKeys)
	mux.Handle("/", p.opHandler())
	return mux
}

// mountPublic puts the provider's endpoints on the public group.
func (p *Provider) mountPublic(g *echo.Group) {
	g.GET(pathDiscovery, echo.WrapHandler(http.HandlerFunc(p.serveDiscovery)))
	g.GET(pathKeys, echo.WrapHandler(http.HandlerFunc(p.serveKeys)))
	h := echo.WrapHandler(p.opHandler())
	browser := p.browserEndpoint
	for _, path := range []string{pathAuthorize, pathCallback, pathEndSession} {
		g.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, path, browser)
	}
	g.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, pathUserinfo, h)
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
	rec, err := s.p.client(ctx, r.Data.ClientID)
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

// Authorize adds our PKCE policy (RFC 7636; RFC 9700 §2.1.1) before the
// library stores the request: S256 only, and required unless a confidential
// client opted out (clients.Client.RequirePKCE). The error is redirected to
// the (validated) redirect_uri.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	d := r.Data
	if d.CodeChallenge != "" && d.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if d.CodeChallenge == "" && r.Client.(*opClient).requirePKCE() {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge required (PKCE with S256)")
	}
	if id, err := requestedResource(r.Form[paramResource]); err != nil {
		return nil, err
	} else if id != "" {
		if _, err := s.p.resourceByIdentifier(ctx, id); err != nil {
			return nil, err
		}
		ctx = withAuthorizeResource(ctx, id)
	}
	return s.LegacyServer.Authorize(ctx, r)
}

// JWTProfile: the JWT bearer grant (RFC 7523) is not offered.
func (s *server) JWTProfile(context.Context, *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("grant type not supported")
}

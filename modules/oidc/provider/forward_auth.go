package provider

// GET /forward-auth for gateways (nginx auth_request, Caddy forward_auth,
// Traefik ForwardAuth): the gateway passes the caller's Authorization
// header; Routes.Bearer has already authenticated it (API key or access
// token; none or an invalid one is 401 with WWW-Authenticate: Bearer).
// 200 carries who the caller is and a short-lived JWT for the upstream:
//
//	X-Gatehouse-User   user id (the client id for a client's own token)
//	X-Gatehouse-Email  the user's email
//	X-Gatehouse-Roles  role names, comma-separated
//	Authorization      Bearer <RFC 9068 JWT>: aud the ?resource= API (else
//	                   the issuer), scopes as in token exchange, ≤ 5 min
//
// ?permission=<type>:<id>#<action> asks the authz decision for the
// principal first (403 when denied). Answers are cached per credential and
// API until shortly before the JWT expires, so a repeated request costs
// the bearer check and a map look-up, and no request writes to the
// database. A revoked key or token is refused at once: the bearer check
// runs on every request.

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

const (
	pathForwardAuth = "/forward-auth"
	// GatewayClientID is the client_id claim of tokens minted for gateways.
	GatewayClientID = "gatehouse-forward-auth"
	// gatewayRenew: a cached answer is replaced this long before its JWT
	// expires, so the upstream never receives a token about to lapse.
	gatewayRenew = 60 * time.Second
	// gatewayCacheMax bounds the cached answers; each holds a JWT (~1 KiB
	// with the rest), so a full cache is about 10 MiB.
	gatewayCacheMax = 10_000
)

// gatewayAnswer is what /forward-auth returns for one credential and API.
type gatewayAnswer struct {
	user, email, roles, token string
}

func (p *Provider) mountForwardAuth(b interface {
	GET(string, echo.HandlerFunc)
}) {
	b.GET(pathForwardAuth, p.forwardAuth)
}

func (p *Provider) forwardAuth(c echo.Context) error {
	ctx := c.Request().Context()
	pr, ok := principal.From(ctx)
	if !ok {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		return httpserver.WriteProblem(c, http.StatusUnauthorized, "a bearer credential is required")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	pr = p.gatewayPrincipal(ctx, c.Request(), pr)
	var api *resources.Resource
	if id := c.QueryParam("resource"); id != "" {
		r, err := p.resourceByIdentifier(ctx, id)
		if err != nil {
			return httpserver.WriteProblem(c, http.StatusBadRequest, "unknown resource "+id)
		}
		api = r
	}
	if perm := c.QueryParam("permission"); perm != "" {
		res, action, ok := parsePermission(perm)
		if !ok {
			return httpserver.WriteProblem(c, http.StatusBadRequest, "permission must be <type>:<id>#<action>")
		}
		allowed, err := p.authz.Can(ctx, pr, res, action)
		if err != nil {
			return err
		}
		if !allowed {
			return httpserver.WriteProblem(c, http.StatusForbidden, "not allowed to "+action+" "+res.String())
		}
	}
	a, err := p.gatewayAnswerFor(ctx, pr, api)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Gatehouse-User", a.user)
	h.Set("X-Gatehouse-Email", a.email)
	h.Set("X-Gatehouse-Roles", a.roles)
	h.Set("Authorization", "Bearer "+a.token)
	return c.NoContent(http.StatusOK)
}

// gatewayPrincipal gives an access-token principal the token's own API
// scopes: AuthenticateBearer withholds them from a token for another
// audience (no admin rights at Gatehouse), but at a gateway that token is
// the caller's credential for its API. The signature check is cached.
func (p *Provider) gatewayPrincipal(ctx context.Context, r *http.Request, pr principal.Principal) principal.Principal {
	if pr.Via != principal.ViaAccessToken {
		return pr
	}
	raw, _ := httpserver.BearerToken(r)
	if claims, err := p.verifyAccessToken(ctx, raw); err == nil {
		pr.Scopes = []string{}
		for _, s := range claims.Scopes {
			if strings.Contains(s, ":") {
				pr.Scopes = append(pr.Scopes, s)
			}
		}
	}
	return pr
}

// parsePermission splits "<type>:<id>#<action>" (the id may be "*").
func parsePermission(s string) (principal.Resource, string, bool) {
	obj, action, ok := strings.Cut(s, "#")
	typ, id, ok2 := strings.Cut(obj, ":")
	if !ok || !ok2 || typ == "" || id == "" || action == "" {
		return principal.Resource{}, "", false
	}
	return principal.Resource{Type: typ, ID: id}, action, true
}

// gatewayAnswerFor returns the cached answer for the credential and API,
// or builds one: the user's email and roles and a token minted as token
// exchange mints (mintForAPI).
func (p *Provider) gatewayAnswerFor(ctx context.Context, pr principal.Principal, api *resources.Resource) (*gatewayAnswer, error) {
	target := ""
	if api != nil {
		target = api.Identifier
	}
	key := string(pr.Via) + "\x00" + pr.CredentialID + "\x00" + pr.ID + "\x00" + target
	if a, ok := p.gateway.Get(key); ok {
		return a, nil
	}
	exp := p.now().Add(MaxExchangedTTL)
	var scopes []string
	if api != nil {
		scopes, _ = exchangeScopes(api, pr.Scopes, nil)
	} else {
		scopes = nonNil(pr.Scopes)
	}
	a := &gatewayAnswer{user: pr.ID}
	if !pr.IsUser() {
		token, _, err := p.mintAccessToken(p.issuer, accessToken{Subject: pr.ID, ClientID: pr.ID,
			Audience: audienceOf(api, p.issuer), Scopes: scopes, Expires: exp})
		if err != nil {
			return nil, err
		}
		a.token = token
	} else {
		u, err := p.users.UserByID(ctx, pr.ID)
		if err != nil {
			return nil, err
		}
		roles, err := p.users.RolesOf(ctx, pr.ID)
		if err != nil {
			return nil, err
		}
		token, _, err := p.mintAccessToken(p.issuer, accessToken{Subject: pr.ID, ClientID: GatewayClientID,
			Audience: audienceOf(api, p.issuer), Scopes: scopes, Roles: nonNil(roles), Expires: exp})
		if err != nil {
			return nil, err
		}
		a.email, a.roles, a.token = u.Email, strings.Join(roles, ","), token
	}
	p.gateway.PutUntil(key, a, exp.Add(-gatewayRenew))
	return a, nil
}

func audienceOf(api *resources.Resource, issuer string) []string {
	if api == nil {
		return []string{issuer}
	}
	return []string{api.Identifier}
}

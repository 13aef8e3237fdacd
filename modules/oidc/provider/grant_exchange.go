package provider

// Token exchange (RFC 8693) for clients allowed the grant token_exchange:
// an API key (urn:gatehouse:params:oauth:token-type:api-key) or one of our
// access tokens becomes a short-lived RFC 9068 access token for its user at
// a registered API. Gatehouse serves this grant itself, before the
// library: the library refuses subject token types it does not know
// (oidc.TokenType.IsSupported), and the API-key type is ours.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

// TokenTypeAPIKey is the subject_token_type of a Gatehouse API key.
const TokenTypeAPIKey oidc.TokenType = "urn:gatehouse:params:oauth:token-type:api-key"

// MaxExchangedTTL bounds the lifetime of exchanged and gateway tokens.
const MaxExchangedTTL = 5 * time.Minute

// serveTokenExchange answers a token request whose grant_type is token
// exchange (errors as RFC 6749 §5.2 JSON through the library's WriteError).
func (p *Provider) serveTokenExchange(w http.ResponseWriter, r *http.Request) {
	resp, err := p.tokenExchange(r.Context(), r)
	if err != nil {
		op.WriteError(w, r, err, p.opts.Logger)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (p *Provider) tokenExchange(ctx context.Context, r *http.Request) (*oidc.TokenExchangeResponse, error) {
	if err := r.ParseForm(); err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("malformed form")
	}
	f := r.PostForm
	c, err := p.tokenClient(ctx, r)
	if err != nil {
		return nil, err
	}
	if !c.Allows(clients.GrantTokenExchange) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use token exchange")
	}
	switch {
	case f.Get("subject_token") == "" || f.Get("subject_token_type") == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token and subject_token_type are required")
	case f.Get("actor_token") != "":
		return nil, oidc.ErrInvalidRequest().WithDescription("actor tokens (delegation) are not supported")
	case f.Get("requested_token_type") != "" && f.Get("requested_token_type") != string(oidc.AccessTokenType):
		return nil, oidc.ErrInvalidRequest().WithDescription("only access tokens are issued")
	}
	api, err := p.exchangeTarget(ctx, f)
	if err != nil {
		return nil, err
	}
	subj, err := p.exchangeSubject(ctx, oidc.TokenType(f.Get("subject_token_type")), f.Get("subject_token"))
	if err != nil {
		return nil, err
	}
	scopes, err := exchangeScopes(api, subj.scopes, splitScope(f.Get("scope")))
	if err != nil {
		return nil, err
	}
	exp := p.now().Add(min(MaxExchangedTTL, c.AccessTTL()))
	if !subj.expires.IsZero() && subj.expires.Before(exp) {
		exp = subj.expires
	}
	token, jti, err := p.mintForAPI(ctx, subj.userID, c.ID, api, scopes, exp)
	if err != nil {
		return nil, err
	}
	err = p.record(ctx, audit.Event{Action: "token.exchange", Actor: audit.Ref{Type: "client", ID: c.ID},
		Target: audit.Ref{Type: "user", ID: subj.userID}, Outcome: "success",
		Details: map[string]string{"resource": api.Identifier, "subject_token_type": f.Get("subject_token_type"),
			"credential_id": subj.credentialID, "jti": jti}})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &oidc.TokenExchangeResponse{AccessToken: token, IssuedTokenType: oidc.AccessTokenType, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(exp.Sub(p.now()).Round(time.Second) / time.Second), Scopes: scopes}, nil
}

// tokenClient authenticates the client of a token request as VerifyClient
// does (client_secret_basic or client_secret_post; public clients cannot
// hold this grant).
func (p *Provider) tokenClient(ctx context.Context, r *http.Request) (clients.Client, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return clients.Client{}, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("malformed client credentials"), http.StatusUnauthorized)
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if secret == "" {
		return clients.Client{}, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
	}
	return p.authenticateClient(ctx, id, secret)
}

// exchangeTarget is the API named by resource or audience (RFC 8693 §2.1);
// one is required, and both must agree.
func (p *Provider) exchangeTarget(ctx context.Context, f url.Values) (*resources.Resource, error) {
	res, err := requestedResource(f[paramResource])
	if err != nil {
		return nil, err
	}
	aud, err := requestedResource(f["audience"])
	if err != nil {
		return nil, err
	}
	switch {
	case res == "" && aud == "":
		return nil, oidc.ErrInvalidTarget().WithDescription("resource (or audience) naming a registered API is required")
	case res != "" && aud != "" && res != aud:
		return nil, oidc.ErrInvalidTarget().WithDescription("resource and audience name different APIs")
	case res == "":
		res = aud
	}
	return p.resourceByIdentifier(ctx, res)
}

// exchangeSubjectInfo is who a subject token speaks for.
type exchangeSubjectInfo struct {
	userID       string
	scopes       []string  // nil: the owner's full rights (an unscoped API key)
	expires      time.Time // zero: no bound beyond MaxExchangedTTL
	credentialID string
}

// exchangeSubject verifies the subject token. Anything it does not accept
// (unknown, revoked or expired key or token, disabled owner) is
// invalid_grant (RFC 8693 §2.2.2).
func (p *Provider) exchangeSubject(ctx context.Context, typ oidc.TokenType, token string) (exchangeSubjectInfo, error) {
	var s exchangeSubjectInfo
	switch typ {
	case TokenTypeAPIKey:
		if p.opts.APIKeys == nil {
			return s, oidc.ErrInvalidRequest().WithDescription("API keys are not accepted here")
		}
		pr, err := p.opts.APIKeys.AuthenticateBearer(ctx, token)
		if errors.Is(err, httpserver.ErrUnauthenticated) {
			return s, oidc.ErrInvalidGrant().WithDescription("the API key is not valid (unknown, revoked or expired, or its owner is disabled)")
		}
		if err != nil {
			return s, oidc.ErrServerError().WithParent(err)
		}
		if !pr.IsUser() {
			return s, oidc.ErrInvalidGrant().WithDescription("the API key does not belong to a user")
		}
		s = exchangeSubjectInfo{userID: pr.ID, scopes: pr.Scopes, credentialID: pr.CredentialID}
	case oidc.AccessTokenType:
		claims, err := p.verifyAccessToken(ctx, token)
		if errors.Is(err, ErrInvalidToken) {
			return s, oidc.ErrInvalidGrant().WithDescription("the access token is not valid")
		}
		if err != nil {
			return s, oidc.ErrServerError().WithParent(err)
		}
		if claims.Subject == claims.ClientID {
			return s, oidc.ErrInvalidGrant().WithDescription("a client's own token names no user")
		}
		s = exchangeSubjectInfo{userID: claims.Subject, scopes: nonNil(claims.Scopes),
			expires: claims.Expiration.AsTime(), credentialID: claims.JWTID}
	default:
		return s, oidc.ErrInvalidRequest().WithDescription("unsupported subject_token_type")
	}
	if _, err := p.userClaims(ctx, s.userID, nil, nil); err != nil {
		return s, err // disabled or deleted: invalid_grant
	}
	return s, nil
}

// exchangeScopes: the API's scopes that the subject's scopes cover (all of
// them for an unscoped key), narrowed to the requested ones if any (each
// must be available: invalid_scope).
func exchangeScopes(api *resources.Resource, subject []string, requested []string) ([]string, error) {
	avail := []string{}
	for _, s := range api.Scopes {
		if subject == nil || slices.ContainsFunc(subject, func(have string) bool { return scopeCovers(have, s) }) {
			avail = append(avail, s)
		}
	}
	if len(requested) == 0 {
		return avail, nil
	}
	for _, s := range requested {
		if !slices.Contains(avail, s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not available for this subject at this API", s)
		}
	}
	return slices.Clone(requested), nil
}

// scopeCovers: is want within have? Equal, or both "<type>:<action>" with
// "*" in have matching any type or action (an API key's "*:read" covers an
// API's "invoices:read").
func scopeCovers(have, want string) bool {
	if have == want {
		return true
	}
	ht, ha, ok1 := strings.Cut(have, ":")
	wt, wa, ok2 := strings.Cut(want, ":")
	return ok1 && ok2 && (ht == "*" || ht == wt) && (ha == "*" || ha == wa)
}

func splitScope(s string) []string { return strings.Fields(s) }

// mintForAPI signs the access token of an exchange or a gateway request:
// sub the user, aud the API (or the issuer when api is nil), the roles
// claim, no grant. Nothing is written to the database.
func (p *Provider) mintForAPI(ctx context.Context, userID, clientID string, api *resources.Resource, scopes []string, exp time.Time) (token, jti string, err error) {
	roles, err := p.users.RolesOf(ctx, userID)
	if err != nil {
		return "", "", oidc.ErrServerError().WithParent(err)
	}
	aud := []string{p.issuer}
	if api != nil {
		aud = []string{api.Identifier}
	}
	var alg string
	if c, err := p.client(ctx, clientID); err == nil {
		alg = c.AccessTokenAlg // the exchanging client's choice (cached look-up)
	}
	token, jti, err = p.mintAccessToken(p.issuer, accessToken{Subject: userID, ClientID: clientID, Audience: aud,
		Scopes: scopes, Roles: nonNil(roles), Expires: exp, Alg: alg})
	if err != nil {
		return "", "", oidc.ErrServerError().WithParent(err)
	}
	return token, jti, nil
}

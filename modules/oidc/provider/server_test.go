package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

func TestDiscoveryPinsGrantsAndScopes(t *testing.T) {
	ts := newTestServer(t, testutil.NewSQLite(t))
	ctx := context.Background()
	prov, err := gooidc.NewProvider(ctx, ts.URL) // validates issuer equality too
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	var d struct {
		Issuer           string   `json:"issuer"`
		Authorization    string   `json:"authorization_endpoint"`
		Token            string   `json:"token_endpoint"`
		Introspection    string   `json:"introspection_endpoint"`
		Revocation       string   `json:"revocation_endpoint"`
		Userinfo         string   `json:"userinfo_endpoint"`
		EndSession       string   `json:"end_session_endpoint"`
		JWKS             string   `json:"jwks_uri"`
		Device           string   `json:"device_authorization_endpoint"`
		GrantTypes       []string `json:"grant_types_supported"`
		Scopes           []string `json:"scopes_supported"`
		ResponseTypes    []string `json:"response_types_supported"`
		IDTokenAlgs      []string `json:"id_token_signing_alg_values_supported"`
		CodeChallenge    []string `json:"code_challenge_methods_supported"`
		TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := prov.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if want := []string{"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}; !slices.Equal(d.GrantTypes, want) {
		t.Errorf("grant_types_supported = %v, want %v", d.GrantTypes, want)
	}
	if want := []string{"openid", "profile", "email", "roles", "offline_access"}; !slices.Equal(d.Scopes, want) {
		t.Errorf("scopes_supported = %v, want %v", d.Scopes, want)
	}
	if !slices.Equal(d.ResponseTypes, []string{"code"}) || !slices.Equal(d.CodeChallenge, []string{"S256"}) {
		t.Errorf("response types %v, PKCE methods %v", d.ResponseTypes, d.CodeChallenge)
	}
	if !slices.Contains(d.IDTokenAlgs, "RS256") {
		t.Errorf("id_token_signing_alg_values_supported %v lacks RS256", d.IDTokenAlgs)
	}
	if !slices.Equal(d.TokenAuthMethods, []string{"client_secret_basic", "client_secret_post", "none"}) {
		t.Errorf("token_endpoint_auth_methods_supported = %v", d.TokenAuthMethods)
	}
	for name, got := range map[string]string{
		"/authorize": d.Authorization, "/oauth/token": d.Token, "/oauth/introspect": d.Introspection,
		"/oauth/revoke": d.Revocation, "/userinfo": d.Userinfo, "/end_session": d.EndSession, "/keys": d.JWKS,
	} {
		if got != ts.URL+name {
			t.Errorf("endpoint %s advertised as %q", name, got)
		}
	}
	if d.Device != "" {
		t.Errorf("device endpoint advertised: %q", d.Device)
	}
}

// TestTokenEndpointRefusesUnofferedGrants posts each grant type the
// provider does not offer to the token endpoint, as a confidential client
// that may use every grant it can register: the answer is
// unsupported_grant_type (RFC 6749 §5.2), whatever the library could do.
func TestTokenEndpointRefusesUnofferedGrants(t *testing.T) {
	ts := newTestServer(t, testutil.NewSQLite(t))
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc", RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials}})
	for name, form := range map[string]url.Values{
		"device code (RFC 8628)":   {"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"x"}},
		"JWT bearer (RFC 7523)":    {"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}},
		"password (RFC 6749 §4.3)": {"grant_type": {"password"}, "username": {"u"}, "password": {"p"}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := oidctest.PostForm(t, ts.URL+"/oauth/token", c.ID, secret, form)
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error != "unsupported_grant_type" || status != http.StatusBadRequest {
				t.Fatalf("status %d, body %s; want 400 unsupported_grant_type", status, body)
			}
		})
	}
}

func ccConfig(ts *testServer, id, secret string, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: ts.URL + "/oauth/token", Scopes: scopes}
}

func retrieveCode(err error) (int, string) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response.StatusCode, re.ErrorCode
	}
	return 0, ""
}

func TestClientCredentials(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"users:read", "openid"}})
		tok, err := ccConfig(ts, c.ID, secret, "users:read").Token(ctx)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Errorf("client_credentials returned refresh/id token")
		}

		t.Run("access token verifies against the JWKS (RFC 9068)", func(t *testing.T) {
			ks := gooidc.NewRemoteKeySet(ctx, ts.URL+"/keys")
			payload, err := ks.VerifySignature(ctx, tok.AccessToken)
			if err != nil {
				t.Fatalf("JWKS verification: %v", err)
			}
			hdr := jwtHeader(t, tok.AccessToken)
			if hdr["typ"] != "at+jwt" || hdr["alg"] != "ES256" {
				t.Errorf("header = %v, want typ at+jwt, alg ES256", hdr)
			}
			var cl map[string]any
			_ = json.Unmarshal(payload, &cl)
			for _, k := range []string{"iss", "sub", "aud", "client_id", "scope", "exp", "iat", "jti"} {
				if _, ok := cl[k]; !ok {
					t.Errorf("claim %s missing in %v", k, cl)
				}
			}
			if cl["sub"] != c.ID || cl["client_id"] != c.ID || cl["iss"] != ts.URL || cl["scope"] != "users:read" {
				t.Errorf("claims = %v", cl)
			}
		})

		t.Run("bearer authentication", func(t *testing.T) {
			pr, err := ts.p.AuthenticateBearer(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Kind != principal.Client || pr.ID != c.ID || pr.Via != principal.ViaAccessToken || !slices.Equal(pr.Scopes, []string{"users:read"}) {
				t.Errorf("principal = %+v", pr)
			}
			for _, bad := range []string{"", "x.y.z", tok.AccessToken + "x", strings.Replace(tok.AccessToken, ".", "..", 1)} {
				if _, err := ts.p.AuthenticateBearer(ctx, bad); !errors.Is(err, httpserver.ErrUnauthenticated) {
					t.Errorf("AuthenticateBearer(%q) = %v, want ErrUnauthenticated", bad, err)
				}
			}
		})

		t.Run("openid-only token carries no API scopes", func(t *testing.T) {
			tok2, err := ccConfig(ts, c.ID, secret, "openid").Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pr, err := ts.p.AuthenticateBearer(ctx, tok2.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Scopes == nil || len(pr.Scopes) != 0 {
				t.Errorf("scopes = %#v, want empty non-nil", pr.Scopes)
			}
		})

		t.Run("wrong secret is 401 invalid_client", func(t *testing.T) {
			_, err := ccConfig(ts, c.ID, secret+"x").Token(ctx)
			var re *oauth2.RetrieveError
			if st, code := retrieveCode(err); st != http.StatusUnauthorized || code != "invalid_client" {
				t.Errorf("got %d %q (%v)", st, code, err)
			} else if errors.As(err, &re) && !strings.HasPrefix(re.Response.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge (RFC 6749 §5.2): %q", re.Response.Header.Get("WWW-Authenticate"))
			}
			_, err = ccConfig(ts, "nope", secret).Token(ctx)
			if st, code := retrieveCode(err); st != http.StatusUnauthorized || code != "invalid_client" {
				t.Errorf("unknown client: got %d %q (%v)", st, code, err)
			}
		})

		t.Run("scope not allowed is invalid_scope", func(t *testing.T) {
			_, err := ccConfig(ts, c.ID, secret, "users:delete").Token(ctx)
			if _, code := retrieveCode(err); code != "invalid_scope" {
				t.Errorf("got %q (%v)", code, err)
			}
		})

		t.Run("grant not allowed is unauthorized_client", func(t *testing.T) {
			web, wsecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
			_, err := ccConfig(ts, web.ID, wsecret).Token(ctx)
			if _, code := retrieveCode(err); code != "unauthorized_client" {
				t.Errorf("got %q (%v)", code, err)
			}
		})

		t.Run("a deleted client's tokens stop working", func(t *testing.T) {
			gone, gsecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "gone", GrantTypes: []string{clients.GrantClientCredentials}})
			tk, err := ccConfig(ts, gone.ID, gsecret).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := registry(ts.p).Delete(oidctest.SystemCtx(), gone.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.p.AuthenticateBearer(ctx, tk.AccessToken); !errors.Is(err, httpserver.ErrUnauthenticated) {
				t.Errorf("deleted client's token accepted: %v", err)
			}
		})

		t.Run("no scope parameter: the registered scopes", func(t *testing.T) {
			tk, err := ccConfig(ts, c.ID, secret).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := jwtClaims(t, tk.AccessToken)["scope"]; got != "users:read openid" {
				t.Errorf("default scope = %v", got)
			}
		})

		t.Run("client_secret_post works", func(t *testing.T) {
			cfg := ccConfig(ts, c.ID, secret)
			cfg.AuthStyle = oauth2.AuthStyleInParams
			if _, err := cfg.Token(ctx); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("introspection and revocation", func(t *testing.T) {
			// A second replica on the same database, started before the
			// revocation.
			replica := newTestProvider(t, db, ts.URL, ts.users, ts.p.opts.MasterKey)
			if _, err := replica.AuthenticateBearer(ctx, tok.AccessToken); err != nil {
				t.Fatalf("replica rejects a live token: %v", err)
			}
			other, osecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "rs", GrantTypes: []string{clients.GrantClientCredentials}})
			if st, body := introspect(t, ts, other.ID, osecret, tok.AccessToken); st != 200 || body["active"] != false {
				t.Fatalf("another client introspects a token that is not for it: %d %v, want inactive (RFC 7662 §4)", st, body)
			}
			st, body := introspect(t, ts, c.ID, secret, tok.AccessToken)
			if st != 200 || body["active"] != true || body["sub"] != c.ID || body["scope"] != "users:read" || body["client_id"] != c.ID {
				t.Fatalf("introspect active: %d %v", st, body)
			}
			if st, body := introspect(t, ts, other.ID, osecret, "garbage"); st != 200 || body["active"] != false {
				t.Errorf("introspect garbage: %d %v", st, body)
			}
			if st, _ := introspect(t, ts, "", "", tok.AccessToken); st != http.StatusUnauthorized {
				t.Errorf("unauthenticated introspection: %d, want 401", st)
			}
			if st, _ := introspect(t, ts, other.ID, "wrong", tok.AccessToken); st != http.StatusUnauthorized {
				t.Errorf("wrong-secret introspection: %d, want 401", st)
			}
			// Another client cannot revoke the token; its owner can.
			if st := revoke(t, ts, other.ID, osecret, tok.AccessToken); st != 200 {
				t.Fatalf("revoke by other: %d", st)
			}
			if _, body := introspect(t, ts, c.ID, secret, tok.AccessToken); body["active"] != true {
				t.Fatalf("token revoked by a foreign client")
			}
			if st := revoke(t, ts, c.ID, secret, tok.AccessToken); st != 200 {
				t.Fatalf("revoke: %d", st)
			}
			if _, body := introspect(t, ts, c.ID, secret, tok.AccessToken); body["active"] != false {
				t.Errorf("revoked token still active: %v", body)
			}
			if _, err := ts.p.AuthenticateBearer(ctx, tok.AccessToken); !errors.Is(err, httpserver.ErrUnauthenticated) {
				t.Errorf("revoked token authenticates: %v", err)
			}
			// The replica learns of it by its revocation watch.
			seenAfterCommit(t, db, func() error { _, err := replica.AuthenticateBearer(ctx, tok.AccessToken); return err })
		})
	})
}

func jwtHeader(t *testing.T, tok string) map[string]any { t.Helper(); return jwtPart(t, tok, 0) }

func jwtClaims(t *testing.T, tok string) map[string]any { t.Helper(); return jwtPart(t, tok, 1) }

// jwtPart decodes part i (0 header, 1 claims) of a compact JWS.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func introspect(t *testing.T, ts *testServer, id, secret, token string) (int, map[string]any) {
	t.Helper()
	st, b := oidctest.PostForm(t, ts.URL+"/oauth/introspect", id, secret, url.Values{"token": {token}})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return st, m
}

func revoke(t *testing.T, ts *testServer, id, secret, token string) int {
	t.Helper()
	st, _ := oidctest.PostForm(t, ts.URL+"/oauth/revoke", id, secret, url.Values{"token": {token}})
	return st
}

// codeFlow runs /authorize, completes the request through the seam (as the
// sign-in page would) and returns the code from the redirect.
func codeFlow(t *testing.T, ts *testServer, cfg *oauth2.Config, a flow.Authentication, opts ...oauth2.AuthCodeOption) (code string) {
	t.Helper()
	resp, err := oidctest.NoRedirect.Get(cfg.AuthCodeURL("st-123", opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?authRequestID=") {
		t.Fatalf("authorize: %d %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/login?authRequestID=")
	ctx := oidctest.BrowserCtx(context.Background(), ts.URL)
	pr, err := ts.p.PendingRequest(ctx, id)
	if err != nil || pr.ClientID != cfg.ClientID {
		t.Fatalf("pendingRequest: %+v %v", pr, err)
	}
	cb, err := ts.p.CompleteRequest(ctx, id, a)
	if err != nil {
		t.Fatalf("completeRequest: %v", err)
	}
	resp, err = oidctest.NoRedirect.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d %v", resp.StatusCode, err)
	}
	if u.Query().Get("state") != "st-123" || u.Query().Get("code") == "" {
		t.Fatalf("callback redirect %s", u)
	}
	return u.Query().Get("code")
}

func TestAuthorizationCodeFlow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Name: "Ada", EmailVerified: true}, "", "admin", "auditor")
		c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"},
			PostLogoutRedirectURIs: []string{"https://app.test/bye"}})
		cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
			Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
			Scopes:   []string{"openid", "profile", "email", "roles", "offline_access"}}
		authTime := time.Now().Add(-time.Minute).UTC()
		authn := flow.Authentication{UserID: "user-1", SessionID: "sess-1", AuthTime: authTime, AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword}
		prov, err := gooidc.NewProvider(ctx, ts.URL)
		if err != nil {
			t.Fatal(err)
		}

		verifier := oauth2.GenerateVerifier()
		code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-1"))
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}

		t.Run("ID token", func(t *testing.T) {
			raw, _ := tok.Extra("id_token").(string)
			idt, err := prov.Verifier(&gooidc.Config{ClientID: c.ID}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var cl struct {
				Nonce    string   `json:"nonce"`
				AuthTime int64    `json:"auth_time"`
				AMR      []string `json:"amr"`
				ACR      string   `json:"acr"`
				SID      string   `json:"sid"`
				Roles    []string `json:"roles"`
				Email    string   `json:"email"`
				Name     string   `json:"name"`
			}
			if err := idt.Claims(&cl); err != nil {
				t.Fatal(err)
			}
			if idt.Subject != "user-1" || cl.Nonce != "n-1" || cl.AuthTime != authTime.Unix() || !slices.Equal(cl.AMR, []string{"pwd"}) ||
				cl.ACR != "pwd" || cl.SID != "sess-1" || !slices.Equal(cl.Roles, []string{"admin", "auditor"}) ||
				cl.Email != "ada@example.test" || cl.Name != "Ada" {
				t.Errorf("ID token claims = %+v sub %s", cl, idt.Subject)
			}
			if jwtHeader(t, raw)["alg"] != "RS256" {
				t.Errorf("ID token alg %v", jwtHeader(t, raw)["alg"])
			}
		})

		t.Run("an ID token is not an access token", func(t *testing.T) {
			raw, _ := tok.Extra("id_token").(string)
			if _, err := ts.p.AuthenticateBearer(ctx, raw); !errors.Is(err, httpserver.ErrUnauthenticated) {
				t.Errorf("ID token accepted as bearer: %v", err)
			}
		})

		t.Run("access token and userinfo carry roles", func(t *testing.T) {
			at := jwtClaims(t, tok.AccessToken)
			if roles, _ := at["roles"].([]any); len(roles) != 2 || at["sub"] != "user-1" || at["client_id"] != c.ID {
				t.Errorf("access token claims = %v", at)
			}
			pr, err := ts.p.AuthenticateBearer(ctx, tok.AccessToken)
			if err != nil || pr.Kind != principal.User || pr.ID != "user-1" || pr.Scopes == nil || len(pr.Scopes) != 0 {
				t.Errorf("principal = %+v, %v", pr, err)
			}
			ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var cl struct {
				Roles []string `json:"roles"`
			}
			_ = ui.Claims(&cl)
			if ui.Subject != "user-1" || ui.Email != "ada@example.test" || !slices.Equal(cl.Roles, []string{"admin", "auditor"}) {
				t.Errorf("userinfo = %+v %v", ui, cl.Roles)
			}
		})

		t.Run("refresh rotates; reuse revokes the family", func(t *testing.T) {
			r1 := tok.RefreshToken
			if r1 == "" {
				t.Fatal("no refresh token for offline_access")
			}
			other, osecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "rs", GrantTypes: []string{clients.GrantClientCredentials}})
			form := url.Values{"token": {r1}, "token_type_hint": {"refresh_token"}}
			_, b := oidctest.PostForm(t, ts.URL+"/oauth/introspect", c.ID, secret, form)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["active"] != true || m["sub"] != "user-1" || m["client_id"] != c.ID || m["token_type"] != "refresh_token" {
				t.Errorf("refresh token introspection by its client: %s", b)
			}
			if _, b := oidctest.PostForm(t, ts.URL+"/oauth/introspect", other.ID, osecret, form); !strings.Contains(string(b), `"active":false`) {
				t.Errorf("refresh token introspected by another client: %s", b)
			}
			t2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: r1}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if t2.RefreshToken == "" || t2.RefreshToken == r1 {
				t.Fatalf("refresh token not rotated")
			}
			if raw, _ := t2.Extra("id_token").(string); raw == "" {
				t.Errorf("no ID token on refresh")
			} else if cl := jwtClaims(t, raw); cl["acr"] != "pwd" || cl["sid"] != "sess-1" {
				t.Errorf("refreshed ID token claims %v", cl)
			}
			if _, b := oidctest.PostForm(t, ts.URL+"/oauth/introspect", c.ID, secret, form); !strings.Contains(string(b), `"active":false`) {
				t.Errorf("used refresh token still active: %s", b)
			}
			_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: r1}).Token()
			if _, code := retrieveCode(err); code != "invalid_grant" {
				t.Fatalf("reuse: %v", err)
			}
			_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t2.RefreshToken}).Token()
			if _, code := retrieveCode(err); code != "invalid_grant" {
				t.Errorf("family not revoked: %v", err)
			}
			for _, at := range []string{tok.AccessToken, t2.AccessToken} {
				if _, err := ts.p.AuthenticateBearer(ctx, at); err == nil {
					t.Errorf("access token of revoked family still valid")
				}
			}
		})

		t.Run("code reuse fails and revokes", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(v))
			t1, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if _, c := retrieveCode(err); c != "invalid_grant" {
				t.Fatalf("second redemption: %v", err)
			}
			if _, err := ts.p.AuthenticateBearer(ctx, t1.AccessToken); err == nil {
				t.Errorf("access token from a replayed code still valid")
			}
			_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t1.RefreshToken}).Token()
			if _, c := retrieveCode(err); c != "invalid_grant" {
				t.Errorf("refresh token from a replayed code still valid: %v", err)
			}
		})

		t.Run("no refresh token without offline_access", func(t *testing.T) {
			cfg2 := *cfg
			cfg2.Scopes = []string{"openid"}
			v := oauth2.GenerateVerifier()
			code := codeFlow(t, ts, &cfg2, authn, oauth2.S256ChallengeOption(v))
			t3, err := cfg2.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if t3.RefreshToken != "" {
				t.Errorf("refresh token issued without offline_access")
			}
			if _, ok := jwtClaims(t, t3.AccessToken)["roles"]; ok {
				t.Errorf("roles claim without roles scope")
			}
		})

		t.Run("wrong PKCE verifier", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(v))
			_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			if _, c := retrieveCode(err); c != "invalid_grant" {
				t.Errorf("got %v", err)
			}
		})

		t.Run("ES256 ID tokens for a client that asks", func(t *testing.T) {
			alg := clients.AlgES256
			if _, err := registry(ts.p).Update(oidctest.SystemCtx(), c.ID, clients.ClientUpdate{IDTokenAlg: &alg}); err != nil {
				t.Fatal(err)
			}
			defer func() {
				rs := clients.AlgRS256
				_, _ = registry(ts.p).Update(oidctest.SystemCtx(), c.ID, clients.ClientUpdate{IDTokenAlg: &rs})
			}()
			cfg2 := *cfg
			cfg2.Scopes = []string{"openid"}
			v := oauth2.GenerateVerifier()
			t4, err := cfg2.Exchange(ctx, codeFlow(t, ts, &cfg2, authn, oauth2.S256ChallengeOption(v)), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := t4.Extra("id_token").(string)
			idt, err := prov.Verifier(&gooidc.Config{ClientID: c.ID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, raw)
			if err != nil || jwtHeader(t, raw)["alg"] != "ES256" {
				t.Fatalf("ES256 ID token: %v %v", err, jwtHeader(t, raw))
			}
			if err := idt.VerifyAccessToken(t4.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
		})

		t.Run("disabled user cannot refresh", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			t5, err := cfg.Exchange(ctx, codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(v)), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Status: identity.StatusDisabled}, "")
			defer ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Name: "Ada", EmailVerified: true}, "", "admin", "auditor")
			_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t5.RefreshToken}).Token()
			if _, code := retrieveCode(err); code != "invalid_grant" {
				t.Errorf("disabled user refreshed: %v", err)
			}
		})

		t.Run("end_session without hint asks first", func(t *testing.T) {
			q := url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {"https://app.test/bye"}}
			resp, err := oidctest.NoRedirect.Get(ts.URL + "/end_session?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); loc != "/logout?post_logout_redirect_uri="+url.QueryEscape("https://app.test/bye") {
				t.Errorf("end_session without hint: %d %q", resp.StatusCode, loc)
			}
			if len(ts.sessions.endedIDs()) != 0 {
				t.Errorf("a session ended without a hint")
			}
		})

		t.Run("RP-initiated logout ends the session", func(t *testing.T) {
			raw, _ := tok.Extra("id_token").(string)
			q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://app.test/bye"}, "state": {"s9"}}
			resp, err := oidctest.NoRedirect.Get(ts.URL + "/end_session?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); loc != "https://app.test/bye?state=s9" {
				t.Errorf("end_session redirect %d %q", resp.StatusCode, loc)
			}
			if ended := ts.sessions.endedIDs(); !slices.Equal(ended, []string{"sess-1"}) {
				t.Errorf("ended sessions %v", ended)
			}
		})
	})
}

func TestAuthorizeRequests(t *testing.T) {
	ts := newTestServer(t, testutil.NewSQLite(t))
	ctx := context.Background()
	// The pages pass the browser's auth-session cookie; after a first
	// /authorize through NoRedirect, browserCtx carries it.
	browserCtx := func() context.Context { return oidctest.BrowserCtx(ctx, ts.URL) }
	pub, _ := mustCreateClient(t, ts.p, clients.NewClient{Name: "spa", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	cfg := &oauth2.Config{ClientID: pub.ID, RedirectURL: "http://127.0.0.1:53121/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid"}}
	get := func(u string) (int, *url.URL) {
		resp, err := oidctest.NoRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode, loc
	}

	t.Run("public client without PKCE is refused at its redirect_uri", func(t *testing.T) {
		st, loc := get(cfg.AuthCodeURL("s1"))
		if st != http.StatusFound || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s1" {
			t.Errorf("got %d %v", st, loc)
		}
	})
	t.Run("plain PKCE is refused", func(t *testing.T) {
		st, loc := get(cfg.AuthCodeURL("s1", oauth2.SetAuthURLParam("code_challenge", "abcabcabcabcabcabcabcabcabcabcabcabcabcabca"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if st != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("got %d %v", st, loc)
		}
	})
	t.Run("unregistered redirect_uri is not redirected to", func(t *testing.T) {
		c2 := *cfg
		c2.RedirectURL = "https://evil.test/cb"
		st, loc := get(c2.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if st != http.StatusBadRequest || loc.String() != "" {
			t.Errorf("got %d %v", st, loc)
		}
	})
	t.Run("max_age reaches the pages", func(t *testing.T) {
		st, loc := get(cfg.AuthCodeURL("s8", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("max_age", "30")))
		pr, err := ts.p.PendingRequest(browserCtx(), loc.Query().Get("authRequestID"))
		if st != http.StatusFound || err != nil || pr.MaxAge == nil || *pr.MaxAge != 30*time.Second || len(pr.Prompt) != 0 {
			t.Fatalf("pending = %+v, %v", pr, err)
		}
		old := flow.Authentication{UserID: "u", AuthTime: time.Now().Add(-time.Hour), AMR: []string{"pwd"}}
		if _, err := ts.p.CompleteRequest(browserCtx(), pr.ID, old); err == nil {
			t.Errorf("completed with an authentication older than max_age")
		}
	})
	t.Run("public client: loopback port, PKCE, failRequest", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := codeFlow(t, ts, cfg, flow.Authentication{UserID: "u", AuthTime: time.Now(), AMR: []string{"pwd"}}, oauth2.S256ChallengeOption(v))
		ts.users.Add(identity.User{ID: "u", Email: "u@example.test"}, "")
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatalf("public exchange: %v", err)
		}
		st, loc := get(cfg.AuthCodeURL("s7", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "login"),
			oauth2.SetAuthURLParam("max_age", "30"), oauth2.SetAuthURLParam("acr_values", "phr"), oauth2.SetAuthURLParam("login_hint", "ada")))
		id := loc.Query().Get("authRequestID")
		if st != http.StatusFound || id == "" {
			t.Fatalf("authorize: %d %v", st, loc)
		}
		pr, err := ts.p.PendingRequest(browserCtx(), id)
		// prompt=login turns into max_age=0 (the library's op.ValidateAuthReqPrompt).
		if err != nil || pr.MaxAge == nil || *pr.MaxAge != 0 || !slices.Equal(pr.Prompt, []string{"login"}) || pr.CreatedAt.IsZero() ||
			!slices.Equal(pr.ACRValues, []string{"phr"}) || pr.LoginHint != "ada" || pr.FirstParty {
			t.Fatalf("pending = %+v, %v", pr, err)
		}
		u, err := ts.p.FailRequest(browserCtx(), id, "unmet_authentication_requirements", "no passkey")
		if err != nil {
			t.Fatal(err)
		}
		fu, _ := url.Parse(u)
		if !strings.HasPrefix(u, "http://127.0.0.1:53121/cb?") || fu.Query().Get("error") != "unmet_authentication_requirements" || fu.Query().Get("state") != "s7" {
			t.Errorf("failRequest URL %s", u)
		}
		if _, err := ts.p.PendingRequest(browserCtx(), id); !errors.Is(err, flow.ErrUnknownAuthRequest) {
			t.Errorf("failed request still pending: %v", err)
		}
	})
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		ctx := context.Background()
		ts.users.Add(identity.User{ID: "u1", Email: "u1@example.test"}, "")
		c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
		cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
			Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
			Scopes:   []string{"openid", "offline_access"}}
		v := oauth2.GenerateVerifier()
		code := codeFlow(t, ts, cfg, flow.Authentication{UserID: "u1", AuthTime: time.Now(), AMR: []string{"pwd"}}, oauth2.S256ChallengeOption(v))
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		results := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
				results <- err
			}()
		}
		ok := 0
		for i := 0; i < n; i++ {
			err := <-results
			if err == nil {
				ok++
			} else if _, code := retrieveCode(err); code != "invalid_grant" {
				t.Errorf("loser got %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent redemptions succeeded, want exactly 1", ok)
		}
	})
}

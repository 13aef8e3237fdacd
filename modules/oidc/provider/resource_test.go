package provider

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

func newResourceServer(t *testing.T) (*testServer, *resources.Service) {
	t.Helper()
	db := testutil.NewSQLite(t)
	apis := resources.New(db, audit.New(db), resources.Options{})
	ts := newTestServer(t, db, func(o *Options) { o.Resources = apis })
	return ts, apis
}

// RFC 8707 on the token endpoint, and RFC 7662 §4 introspection limits.
func TestResourceIndicators(t *testing.T) {
	ts, apis := newResourceServer(t)
	ctx := context.Background()
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"invoices:read", "users:read"}})
	rs, rsSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "rs", GrantTypes: []string{clients.GrantClientCredentials}})
	other, otherSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "other", GrantTypes: []string{clients.GrantClientCredentials}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read", "invoices:write"}, ClientIDs: []string{rs.ID}})
	if err != nil {
		t.Fatal(err)
	}

	cfg := ccConfig(ts, c.ID, secret, "invoices:read", "users:read")
	cfg.EndpointParams = url.Values{"resource": {api.Identifier}}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token for the API: %v", err)
	}
	cl := jwtClaims(t, tok.AccessToken)
	if cl["aud"] != api.Identifier && !slices.Equal(claimList(cl["aud"]), []string{api.Identifier}) {
		t.Errorf("aud = %v, want %s", cl["aud"], api.Identifier)
	}
	if cl["scope"] != "invoices:read" {
		t.Errorf("scope = %v, want only the API's scopes (invoices:read)", cl["scope"])
	}
	// Not an admin credential at Gatehouse: no API scopes.
	p, err := ts.p.AuthenticateBearer(ctx, tok.AccessToken)
	if err != nil || p.Scopes == nil || len(p.Scopes) != 0 {
		t.Errorf("a token for another audience authenticates with scopes %v (%v), want none", p.Scopes, err)
	}

	t.Run("introspection", func(t *testing.T) {
		for _, tc := range []struct {
			name, id, secret string
			active           bool
		}{{"issued to", c.ID, secret, true}, {"registered for the API", rs.ID, rsSecret, true}, {"anyone else", other.ID, otherSecret, false}} {
			if _, body := introspect(t, ts, tc.id, tc.secret, tok.AccessToken); body["active"] != tc.active {
				t.Errorf("%s: active = %v, want %v", tc.name, body["active"], tc.active)
			}
		}
	})

	t.Run("unknown or several resources are invalid_target", func(t *testing.T) {
		for _, res := range [][]string{{"https://unknown.example.com"}, {api.Identifier, api.Identifier + "/x"}} {
			cfg := ccConfig(ts, c.ID, secret, "invoices:read")
			cfg.EndpointParams = url.Values{"resource": res}
			if _, err := cfg.Token(ctx); err == nil {
				t.Errorf("resource %v: token issued", res)
			} else if st, code := retrieveCode(err); st != 400 || code != "invalid_target" {
				t.Errorf("resource %v: %d %s, want 400 invalid_target", res, st, code)
			}
		}
	})

	t.Run("without resource the token is the client's", func(t *testing.T) {
		tok, err := ccConfig(ts, c.ID, secret, "users:read").Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if aud := claimList(jwtClaims(t, tok.AccessToken)["aud"]); !slices.Equal(aud, []string{c.ID}) {
			t.Errorf("aud = %v, want the client", aud)
		}
	})

}

// resource= on the authorization request carries to the code's tokens.
func TestResourceOnAuthorizationRequest(t *testing.T) {
	ts, apis := newResourceServer(t)
	ctx := context.Background()
	ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Name: "Ada"}, "")
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"},
		Scopes: []string{"openid", "invoices:read"}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
		Scopes:   []string{"openid", "invoices:read"}}
	authn := flow.Authentication{UserID: "user-1", SessionID: "s", AuthTime: time.Now().UTC(), AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword}
	verifier := oauth2.GenerateVerifier()
	code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", api.Identifier))
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	cl := jwtClaims(t, tok.AccessToken)
	if aud := claimList(cl["aud"]); !slices.Equal(aud, []string{api.Identifier}) || cl["scope"] != "invoices:read" {
		t.Errorf("access token aud %v scope %v, want the API and invoices:read", aud, cl["scope"])
	}
	// An unknown resource on /authorize is refused (redirected as invalid_target).
	resp, err := oidctest.NoRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", "https://nope.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_target") {
		t.Errorf("unknown resource on /authorize: %d %q, want an invalid_target redirect", resp.StatusCode, loc)
	}
}

func claimList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// A refresh keeps the authorization request's resource (RFC 8707 §2.2): the
// grant's refresh tokens give access tokens for that API without resource=,
// across rotations; repeating it is fine, naming another API is
// invalid_target. A grant whose authorization request named none stays free
// to name one per refresh.
func TestRefreshKeepsResource(t *testing.T) {
	ts, apis := newResourceServer(t)
	ctx := context.Background()
	ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test", Name: "Ada"}, "")
	c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"},
		Scopes: []string{"openid", "offline_access", "invoices:read"}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://billing.example.com", Name: "Billing",
		Scopes: []string{"invoices:read"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
		Scopes:   []string{"openid", "offline_access", "invoices:read"}}
	authn := flow.Authentication{UserID: "user-1", SessionID: "s", AuthTime: time.Now().UTC(), AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword}
	grantFor := func(resource string) string {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
		if resource != "" {
			opts = append(opts, oauth2.SetAuthURLParam("resource", resource))
		}
		tok, err := cfg.Exchange(ctx, codeFlow(t, ts, cfg, authn, opts...), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		return tok.RefreshToken
	}
	refresh := func(rt string, resource ...string) (*oauth2.Token, error) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if len(resource) > 0 {
			form["resource"] = resource
		}
		return postTokenForm(ts, c.ID, secret, form)
	}
	audOf := func(tok *oauth2.Token) ([]string, any) {
		cl := jwtClaims(t, tok.AccessToken)
		return claimList(cl["aud"]), cl["scope"]
	}

	rt := grantFor(api.Identifier)
	for i, res := range [][]string{nil, {api.Identifier}, nil} { // twice without, across rotations
		tok, err := refresh(rt, res...)
		if err != nil {
			t.Fatalf("refresh %d (resource %v): %v", i, res, err)
		}
		if aud, scope := audOf(tok); !slices.Equal(aud, []string{api.Identifier}) || scope != "invoices:read" {
			t.Errorf("refresh %d (resource %v): aud %v scope %v, want the API's", i, res, aud, scope)
		}
		rt = tok.RefreshToken
	}
	if _, err := refresh(rt, other.Identifier); err == nil {
		t.Error("a refresh of a grant for one API got a token for another")
	} else if st, code := retrieveCode(err); st != 400 || code != "invalid_target" {
		t.Errorf("another API on refresh: %d %s, want 400 invalid_target", st, code)
	}

	// Not bound: the client's own tokens, or any API named on the refresh.
	rt = grantFor("")
	tok, err := refresh(rt)
	if err != nil {
		t.Fatal(err)
	}
	if aud, _ := audOf(tok); !slices.Equal(aud, []string{c.ID}) {
		t.Errorf("unbound refresh: aud %v, want the client", aud)
	}
	if tok, err = refresh(tok.RefreshToken, other.Identifier); err != nil {
		t.Fatal(err)
	}
	if aud, _ := audOf(tok); !slices.Equal(aud, []string{other.Identifier}) {
		t.Errorf("unbound refresh naming an API: aud %v", aud)
	}
}

// postTokenForm posts form to the token endpoint with client_secret_basic;
// an error answer is an *oauth2.RetrieveError (retrieveCode reads it).
func postTokenForm(ts *testServer, id, secret string, form url.Values) (*oauth2.Token, error) {
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: e.Error}
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}, nil
}

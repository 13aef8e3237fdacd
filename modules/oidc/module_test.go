package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/web"
)

// apiAuthz: "admin" may do anything, "reader" may read; a scoped principal
// (access token) is limited to its scopes.
type apiAuthz struct{}

func (apiAuthz) Can(_ context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
	if p.Scopes != nil {
		return slices.Contains(p.Scopes, res.Type+":"+action), nil
	}
	return p.ID == "admin" || (p.ID == "reader" && action == "read"), nil
}

type apiEnv struct {
	api *testutil.API
	m   *Module
}

// newAPIEnv runs the whole module (provider and pages) on the kernel's HTTP
// server, as main mounts it; "admin" and "reader" are API-key users, other
// bearer tokens go to the module.
func newAPIEnv(t *testing.T, db database.DB) *apiEnv {
	t.Helper()
	e := &apiEnv{}
	e.api = testutil.NewAPIAt(t, func(issuer string) (httpserver.Options, []module.Module) {
		renderer, err := web.New()
		if err != nil {
			t.Fatal(err)
		}
		e.m, err = New(db, Deps{Users: oidctest.NewUsers(), Audit: audit.New(db), Authorizer: apiAuthz{}, Pages: renderer},
			Options{Issuer: issuer, MasterKey: oidctest.MasterKey(t), Logger: logging.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.m.Init(context.Background()); err != nil {
			t.Fatal(err)
		}
		return httpserver.Options{Bearer: e.m, Session: e.m, ErrorPage: renderer}, []module.Module{e.m}
	})
	e.api.User("admin", "admin")
	e.api.User("reader", "reader")
	return e
}

// do sends one request (path from the root) and decodes the JSON answer.
func (e *apiEnv) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	res := e.api.Do(t, method, "/"+path, token, body)
	var m map[string]any
	_ = json.Unmarshal([]byte(res.Body), &m)
	if m == nil {
		m = map[string]any{"_raw": res.Body}
	}
	return res.Status, m
}

func TestClientsAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newAPIEnv(t, db)
		st, created := e.do(t, "POST", "/api/v1/clients", "admin",
			`{"name":"Web","redirect_uris":["https://app.test/cb"],"scopes":["openid","clients:read"],"grant_types":["authorization_code","client_credentials"]}`)
		if st != http.StatusCreated || created["client_secret"] == nil || created["client_id"] == nil {
			t.Fatalf("create: %d %v", st, created)
		}
		id, secret := created["client_id"].(string), created["client_secret"].(string)

		// No answer shows a client secret.
		noSecret := []string{`"client_secret":`}
		e.api.Run(t, []testutil.Scenario{
			{Name: "create needs a redirect URI", Method: "POST", Path: "/clients", Token: "admin", Body: `{"name":"x"}`, WantStatus: 422, WantContains: []string{"body.redirect_uris"}, WantAbsent: noSecret},
			{Name: "create rejects unknown fields", Method: "POST", Path: "/clients", Token: "admin", Body: `{"name":"x","secret":"s"}`, WantStatus: 422, WantContains: []string{"secret"}, WantAbsent: noSecret},
			{Name: "reader cannot create", Method: "POST", Path: "/clients", Token: "reader", Body: `{"name":"x","grant_types":["client_credentials"]}`, WantStatus: 403, WantAbsent: noSecret},
			{Name: "no credential", Method: "GET", Path: "/clients", WantStatus: 401, WantAbsent: noSecret},
			{Name: "get hides the secret", Method: "GET", Path: "/clients/" + id, Token: "reader", WantStatus: 200, WantContains: []string{`"client_id":"` + id}, WantAbsent: noSecret},
			{Name: "permissions claim off by default", Method: "GET", Path: "/clients/" + id, Token: "reader", WantStatus: 200, WantContains: []string{`"permissions_claim":false`}, WantAbsent: noSecret},
			{Name: "patch permissions claim on", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"permissions_claim":true}`, WantStatus: 200, WantContains: []string{`"permissions_claim":true`}, WantAbsent: noSecret},
			{Name: "get shows permissions claim", Method: "GET", Path: "/clients/" + id, Token: "reader", WantStatus: 200, WantContains: []string{`"permissions_claim":true`}, WantAbsent: noSecret},
			{Name: "permissions claim is a boolean", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"permissions_claim":"yes"}`, WantStatus: 422, WantContains: []string{"permissions_claim"}, WantAbsent: noSecret},
			{Name: "get unknown", Method: "GET", Path: "/clients/nope", Token: "admin", WantStatus: 404, WantAbsent: noSecret},
			{Name: "patch", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"name":"Web 2","id_token_signed_response_alg":"ES256"}`, WantStatus: 200, WantContains: []string{`"name":"Web 2"`}, WantAbsent: noSecret},
			{Name: "patch invalid", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"redirect_uris":["https://*.x/cb"]}`, WantStatus: 422, WantContains: []string{"body.redirect_uris"}, WantAbsent: noSecret},
			{Name: "reader cannot patch", Method: "PATCH", Path: "/clients/" + id, Token: "reader", Body: `{"name":"z"}`, WantStatus: 403, WantAbsent: noSecret},
			{Name: "access token alg ES256 by default", Method: "GET", Path: "/clients/" + id, Token: "reader", WantStatus: 200, WantContains: []string{`"access_token_alg":"ES256"`}, WantAbsent: noSecret},
			{Name: "patch access token alg", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"access_token_alg":"EdDSA"}`, WantStatus: 200, WantContains: []string{`"access_token_alg":"EdDSA"`}, WantAbsent: noSecret},
			{Name: "create refuses an unknown access token alg", Method: "POST", Path: "/clients", Token: "admin", Body: `{"name":"x","grant_types":["client_credentials"],"access_token_alg":"HS256"}`, WantStatus: 422, WantContains: []string{"access_token_alg"}, WantAbsent: noSecret},
			{Name: "patch refuses an unknown access token alg", Method: "PATCH", Path: "/clients/" + id, Token: "admin", Body: `{"access_token_alg":"none"}`, WantStatus: 422, WantContains: []string{"access_token_alg"}, WantAbsent: noSecret},
		}...)

		t.Run("list pages", func(t *testing.T) {
			e.do(t, "POST", "/api/v1/clients", "admin", `{"name":"M","grant_types":["client_credentials"]}`)
			st, page := e.do(t, "GET", "/api/v1/clients?page_size=1", "reader", "")
			items, _ := page["items"].([]any)
			next, _ := page["next_page_token"].(string)
			if st != 200 || len(items) != 1 || next == "" {
				t.Fatalf("page 1: %d %v", st, page)
			}
			st, page = e.do(t, "GET", "/api/v1/clients?page_size=1&page_token="+url.QueryEscape(next), "reader", "")
			items, _ = page["items"].([]any)
			if st != 200 || len(items) != 1 || page["next_page_token"] != "" {
				t.Errorf("page 2: %d %v", st, page)
			}
		})

		t.Run("access token as bearer: API scopes only", func(t *testing.T) {
			tok := func(scope string) string {
				st, b := oidctest.PostForm(t, e.api.URL+"/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				if st != 200 {
					t.Fatalf("token: %d %s", st, b)
				}
				return m["access_token"].(string)
			}
			if st, _ := e.do(t, "GET", "/api/v1/clients/"+id, tok("clients:read"), ""); st != 200 {
				t.Errorf("clients:read token: %d", st)
			}
			if st, _ := e.do(t, "GET", "/api/v1/clients/"+id, tok("openid"), ""); st != 403 {
				t.Errorf("openid token: %d, want 403", st)
			}
		})

		t.Run("rotate secret", func(t *testing.T) {
			st, body := e.do(t, "POST", "/api/v1/clients/"+id+"/secret", "admin", `{"overlap_seconds":0}`)
			newSecret, _ := body["client_secret"].(string)
			if st != 200 || newSecret == "" || newSecret == secret {
				t.Fatalf("rotate: %d %v", st, body)
			}
			form := url.Values{"grant_type": {"client_credentials"}}
			if st, _ := oidctest.PostForm(t, e.api.URL+"/oauth/token", id, secret, form); st != 401 {
				t.Errorf("old secret after rotation without overlap: %d", st)
			}
			if st, _ := oidctest.PostForm(t, e.api.URL+"/oauth/token", id, newSecret, form); st != 200 {
				t.Errorf("new secret: %d", st)
			}
		})

		t.Run("create with permissions claim", func(t *testing.T) {
			st, body := e.do(t, "POST", "/api/v1/clients", "admin", `{"name":"P","grant_types":["client_credentials"],"permissions_claim":true}`)
			if st != http.StatusCreated || body["permissions_claim"] != true {
				t.Fatalf("create: %d %v", st, body)
			}
			c, err := e.m.Clients().Get(context.Background(), body["client_id"].(string))
			if err != nil || !c.PermissionsClaim {
				t.Errorf("stored: %+v %v", c, err)
			}
		})

		t.Run("public endpoints are mounted", func(t *testing.T) {
			for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
				resp, err := http.Get(e.api.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
			}
			if st, _ := oidctest.PostForm(t, e.api.URL+"/oauth/introspect", "", "", url.Values{"token": {"x"}}); st != 401 {
				t.Errorf("introspect without auth: %d", st)
			}
		})

		t.Run("browsers get an HTML page for a refused authorization request", func(t *testing.T) {
			for _, q := range []string{
				"client_id=nope&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.test%2Fcb",
				"client_id=" + id + "&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.test%2Fcb",
			} {
				req, _ := http.NewRequest("GET", e.api.URL+"/authorize?"+q, nil)
				req.Header.Set("Accept", "text/html,application/xhtml+xml")
				resp, err := oidctest.NoRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Location") != "" {
					t.Errorf("%s: %d %q %q", q, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
				}
			}
			// A valid request still redirects to the sign-in page.
			q := "client_id=" + id + "&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&state=s" +
				"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
			resp, err := oidctest.NoRedirect.Get(e.api.URL + "/authorize?" + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?authRequestID=") {
				t.Errorf("valid request: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})

		t.Run("rotate signing keys", func(t *testing.T) {
			if st, _ := e.do(t, "POST", "/api/v1/signing-keys/rotate", "reader", ""); st != 403 {
				t.Errorf("reader rotates keys: %d", st)
			}
			st, body := e.do(t, "POST", "/api/v1/signing-keys/rotate", "admin", "")
			keys, _ := body["keys"].([]any)
			if st != 200 || len(keys) != 6 {
				t.Errorf("rotate keys: %d %v", st, body)
			}
		})

		t.Run("delete", func(t *testing.T) {
			if st, _ := e.do(t, "DELETE", "/api/v1/clients/"+id, "reader", ""); st != 403 {
				t.Errorf("reader deletes: %d", st)
			}
			if st, _ := e.do(t, "DELETE", "/api/v1/clients/"+id, "admin", ""); st != 204 {
				t.Errorf("delete: %d", st)
			}
			if st, _ := e.do(t, "GET", "/api/v1/clients/"+id, "admin", ""); st != 404 {
				t.Errorf("get deleted: %d", st)
			}
		})
	})
}

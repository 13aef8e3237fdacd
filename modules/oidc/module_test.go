package oidc

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
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
	ts *httptest.Server
	m  *Module
}

// newAPIEnv runs the whole module (provider and pages) on the kernel's HTTP
// server, as main mounts it.
func newAPIEnv(t *testing.T, db database.DB) *apiEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	renderer, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(db, Deps{Users: oidctest.NewUsers(), Audit: audit.New(db), Authorizer: apiAuthz{}, Pages: renderer},
		Options{Issuer: issuer, MasterKey: oidctest.MasterKey(t), Logger: logging.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Options{
		Logger: logging.Discard(),
		Bearer: httpserver.BearerFunc(func(ctx context.Context, token string) (principal.Principal, error) {
			if token == "admin" || token == "reader" {
				return principal.Principal{Kind: principal.User, ID: token, Via: principal.ViaAPIKey}, nil
			}
			return m.AuthenticateBearer(ctx, token)
		}),
		Session:   m,
		ErrorPage: renderer,
	})
	m.Mount(srv.Routes)
	ts.Config.Handler = srv.Echo
	ts.Start()
	t.Cleanup(ts.Close)
	return &apiEnv{ts: ts, m: m}
}

func (e *apiEnv) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m == nil {
		m = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, m
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

		tests := []struct {
			name, method, path, token, body string
			wantStatus                      int
			wantContains                    string
		}{
			{"create needs a redirect URI", "POST", "/api/v1/clients", "admin", `{"name":"x"}`, 422, "body.redirect_uris"},
			{"create rejects unknown fields", "POST", "/api/v1/clients", "admin", `{"name":"x","secret":"s"}`, 422, "secret"},
			{"reader cannot create", "POST", "/api/v1/clients", "reader", `{"name":"x","grant_types":["client_credentials"]}`, 403, ""},
			{"no credential", "GET", "/api/v1/clients", "", "", 401, ""},
			{"get hides the secret", "GET", "/api/v1/clients/" + id, "reader", "", 200, `"client_id":"` + id},
			{"permissions claim off by default", "GET", "/api/v1/clients/" + id, "reader", "", 200, `"permissions_claim":false`},
			{"patch permissions claim on", "PATCH", "/api/v1/clients/" + id, "admin", `{"permissions_claim":true}`, 200, `"permissions_claim":true`},
			{"get shows permissions claim", "GET", "/api/v1/clients/" + id, "reader", "", 200, `"permissions_claim":true`},
			{"permissions claim is a boolean", "PATCH", "/api/v1/clients/" + id, "admin", `{"permissions_claim":"yes"}`, 422, "permissions_claim"},
			{"get unknown", "GET", "/api/v1/clients/nope", "admin", "", 404, ""},
			{"patch", "PATCH", "/api/v1/clients/" + id, "admin", `{"name":"Web 2","id_token_signed_response_alg":"ES256"}`, 200, `"name":"Web 2"`},
			{"patch invalid", "PATCH", "/api/v1/clients/" + id, "admin", `{"redirect_uris":["https://*.x/cb"]}`, 422, "body.redirect_uris"},
			{"reader cannot patch", "PATCH", "/api/v1/clients/" + id, "reader", `{"name":"z"}`, 403, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, body := e.do(t, tt.method, tt.path, tt.token, tt.body)
				raw, _ := json.Marshal(body)
				if st != tt.wantStatus || !strings.Contains(string(raw), tt.wantContains) {
					t.Errorf("%s %s = %d %s", tt.method, tt.path, st, raw)
				}
				if strings.Contains(string(raw), `"client_secret":`) {
					t.Errorf("secret leaked: %s", raw)
				}
			})
		}

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
				st, b := oidctest.PostForm(t, e.ts.URL+"/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
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
			if st, _ := oidctest.PostForm(t, e.ts.URL+"/oauth/token", id, secret, form); st != 401 {
				t.Errorf("old secret after rotation without overlap: %d", st)
			}
			if st, _ := oidctest.PostForm(t, e.ts.URL+"/oauth/token", id, newSecret, form); st != 200 {
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
				resp, err := http.Get(e.ts.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
			}
			if st, _ := oidctest.PostForm(t, e.ts.URL+"/oauth/introspect", "", "", url.Values{"token": {"x"}}); st != 401 {
				t.Errorf("introspect without auth: %d", st)
			}
		})

		t.Run("browsers get an HTML page for a refused authorization request", func(t *testing.T) {
			for _, q := range []string{
				"client_id=nope&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.test%2Fcb",
				"client_id=" + id + "&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.test%2Fcb",
			} {
				req, _ := http.NewRequest("GET", e.ts.URL+"/authorize?"+q, nil)
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
			resp, err := oidctest.NoRedirect.Get(e.ts.URL + "/authorize?" + q)
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
			if st != 200 || len(keys) != 4 {
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

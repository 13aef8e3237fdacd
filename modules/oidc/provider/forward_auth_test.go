package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

// gatewayFixture is a provider with one API and /forward-auth behind a
// bearer check over fakeKeys (as Routes.Bearer does with the real chain).
type gatewayFixture struct {
	p   *Provider
	e   *echo.Echo
	api resources.Resource
}

func newGatewayFixture(t testing.TB) *gatewayFixture {
	t.Helper()
	db := testutil.NewSQLite(t)
	apis := resources.New(db, audit.New(db), resources.Options{})
	users := oidctest.NewUsers()
	users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "", "admin", "auditor")
	keys := fakeKeys{"gh_key": {Kind: principal.User, ID: "user-1", Via: principal.ViaAPIKey, CredentialID: "k1"}}
	p := newTestProvider(t, db, "http://gw.test", users, oidctest.MasterKey(t), func(o *Options) { o.Resources, o.APIKeys = apis, keys })
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices", Scopes: []string{"invoices:read"}})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET(pathForwardAuth, p.forwardAuth, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, _ := httpserver.BearerToken(c.Request())
			pr, err := keys.AuthenticateBearer(c.Request().Context(), tok)
			if err != nil {
				c.Response().Header().Set("WWW-Authenticate", "Bearer")
				return c.NoContent(http.StatusUnauthorized)
			}
			c.SetRequest(c.Request().WithContext(principal.With(c.Request().Context(), pr)))
			return next(c)
		}
	})
	return &gatewayFixture{p: p, e: e, api: api}
}

func (f *gatewayFixture) get(key, query string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, pathForwardAuth+query, nil)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	return w
}

func TestForwardAuth(t *testing.T) {
	f := newGatewayFixture(t)
	q := "?resource=" + url.QueryEscape(f.api.Identifier) + "&permission=" + url.QueryEscape("invoice:1#read")
	w := f.get("gh_key", q)
	if w.Code != 200 {
		t.Fatalf("forward-auth: %d %s", w.Code, w.Body)
	}
	h := w.Header()
	if h.Get("X-Gatehouse-User") != "user-1" || h.Get("X-Gatehouse-Email") != "ada@example.test" || h.Get("X-Gatehouse-Roles") != "admin,auditor" {
		t.Errorf("headers %v", h)
	}
	tok := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
	claims, err := f.p.verifySignedToken(context.Background(), tok)
	if err != nil {
		t.Fatalf("the upstream JWT does not verify: %v", err)
	}
	if !slices.Equal(claims.Audience, []string{f.api.Identifier}) || claims.Subject != "user-1" || !slices.Equal(claims.Scopes, []string{"invoices:read"}) ||
		claims.Expiration.AsTime().Sub(claims.IssuedAt.AsTime()) > MaxExchangedTTL {
		t.Errorf("claims %+v", claims)
	}
	if again := f.get("gh_key", q); again.Header().Get("Authorization") != h.Get("Authorization") {
		t.Errorf("a second request minted a new token instead of the cached one")
	}
	if w := f.get("", q); w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no credential: %d %v", w.Code, w.Header())
	}
	if w := f.get("gh_key", "?resource=https%3A%2F%2Funknown.example"); w.Code != 400 {
		t.Errorf("unknown resource: %d", w.Code)
	}
	if w := f.get("gh_key", "?permission=nonsense"); w.Code != 400 {
		t.Errorf("malformed permission: %d", w.Code)
	}
	f.p.authz = fakeAuthorizer{deny: true}
	if w := f.get("gh_key", q); w.Code != 403 {
		t.Errorf("denied permission: %d, want 403", w.Code)
	}
	if w := f.get("gh_key", "?resource="+url.QueryEscape(f.api.Identifier)); w.Code != 200 {
		t.Errorf("no permission asked: %d", w.Code)
	}
}

// BenchmarkForwardAuthCached is /forward-auth for a key whose answer is
// cached (the gateway's steady state): bearer check fake, authz fake.
func BenchmarkForwardAuthCached(b *testing.B) {
	f := newGatewayFixture(b)
	q := "?resource=" + url.QueryEscape(f.api.Identifier)
	if w := f.get("gh_key", q); w.Code != 200 {
		b.Fatal(w.Code)
	}
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := f.get("gh_key", q); w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
}

// BenchmarkTokenExchange is one API-key exchange at the token endpoint:
// client secret check, key check (fake), user look-up, signing, and the
// audit event's insert on SQLite.
func BenchmarkTokenExchange(b *testing.B) {
	f := newGatewayFixture(b)
	c, secret := mustCreateClient(b, f.p, clients.NewClient{Name: "gw", GrantTypes: []string{clients.GrantTokenExchange}})
	h := f.p.Handler()
	body := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {"gh_key"},
		"subject_token_type": {string(TokenTypeAPIKey)}, "resource": {f.api.Identifier}}.Encode()
	do := func() int {
		r := httptest.NewRequest(http.MethodPost, "http://gw.test/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(c.ID, secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if st := do(); st != 200 {
		b.Fatal(st)
	}
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b)
	for i := 0; i < b.N; i++ {
		if st := do(); st != 200 {
			b.Fatal(st)
		}
	}
}

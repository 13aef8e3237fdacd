package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/web"
)

// lockedBuffer collects log output written from handler goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tokens is a hand-written BearerAuthenticator: "good" is a user, "broken"
// fails with an internal error, anything else is unauthenticated.
type tokens struct{}

func (tokens) AuthenticateBearer(_ context.Context, token string) (principal.Principal, error) {
	switch token {
	case "good":
		return principal.Principal{Kind: principal.User, ID: "u1", Via: principal.ViaAPIKey}, nil
	case "broken":
		return principal.Principal{}, errors.New("token store is down")
	}
	return principal.Principal{}, httpserver.ErrUnauthenticated
}

// sessions: a "session=ok" cookie is a signed-in user.
type sessions struct{}

func (sessions) AuthenticateSession(r *http.Request) (principal.Principal, error) {
	if c, err := r.Cookie("session"); err == nil && c.Value == "ok" {
		return principal.Principal{Kind: principal.User, ID: "u1", Via: principal.ViaSession}, nil
	}
	return principal.Principal{}, httpserver.ErrUnauthenticated
}

type echoInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"50"`
	}
}

type echoOutput struct {
	Body struct {
		Name      string `json:"name"`
		Principal string `json:"principal"`
	}
}

type fixture struct {
	srv  *httptest.Server
	logs *lockedBuffer
	reg  *prometheus.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	logs := &lockedBuffer{}
	renderer, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := httpserver.New(httpserver.Options{
		Logger:     logging.New("text", logs, -4),
		Version:    "test",
		Registerer: reg,
		Bearer:     tokens{},
		Session:    sessions{},
		ErrorPage:  renderer,
	})
	s.Routes.Public.GET("/panic", func(echo.Context) error { panic("secret-panic-detail") })
	s.Routes.Public.GET("/fail", func(echo.Context) error { return errors.New("secret-internal-detail") })
	s.Routes.Public.POST("/upload", func(c echo.Context) error {
		n, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]int64{"bytes": n})
	})
	form := func(c echo.Context) error {
		if c.Request().Method == http.MethodGet {
			return c.String(http.StatusOK, httpserver.CSRFToken(c))
		}
		return c.String(http.StatusOK, "posted")
	}
	s.Routes.Public.GET("/form", form, httpserver.CSRF(false))
	s.Routes.Public.POST("/form", form, httpserver.CSRF(false))
	s.Routes.Bearer.POST("/access/v1/decide", func(c echo.Context) error {
		p, _ := principal.From(c.Request().Context())
		return c.JSON(http.StatusOK, map[string]string{"principal": p.ID})
	})
	s.Routes.Admin.GET("/page", form)
	s.Routes.Admin.POST("/page", form)
	huma.Register(s.Routes.API, huma.Operation{
		OperationID: "echo", Method: http.MethodPost, Path: "/echo",
	}, func(ctx context.Context, in *echoInput) (*echoOutput, error) {
		p, ok := principal.From(ctx)
		if !ok {
			return nil, huma.Error500InternalServerError("no principal")
		}
		out := &echoOutput{}
		out.Body.Name, out.Body.Principal = in.Body.Name, p.ID
		return out, nil
	})
	huma.Register(s.Routes.API, huma.Operation{
		OperationID: "forbidden", Method: http.MethodGet, Path: "/forbidden",
	}, func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		return nil, huma.Error403Forbidden("you may not")
	})
	srv := httptest.NewServer(s.Echo)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, logs: logs, reg: reg}
}

// noRedirect lets tests see redirects.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func problemOf(t *testing.T, r response) httpserver.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.body)
	}
	var p httpserver.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	if p.Status != r.status || p.Title == "" {
		t.Fatalf("problem %+v does not match status %d", p, r.status)
	}
	return p
}

func TestAPIErrorsAreProblems(t *testing.T) {
	f := newFixture(t)
	bearer := []string{"Authorization", "Bearer good"}
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		detail                   string
	}{
		{"no credential", "GET", "/api/v1/anything", "", nil, 401, "bearer credential"},
		{"wrong scheme", "GET", "/api/v1/anything", "", []string{"Authorization", "Basic Z29vZA=="}, 401, ""},
		{"empty bearer", "GET", "/api/v1/anything", "", []string{"Authorization", "Bearer "}, 401, ""},
		{"bad credential", "GET", "/api/v1/anything", "", []string{"Authorization", "Bearer nope"}, 401, "invalid"},
		{"unknown route", "GET", "/api/v1/nothing-here", "", bearer, 404, ""},
		{"handler 403", "GET", "/api/v1/forbidden", "", bearer, 403, "you may not"},
		{"unknown field", "POST", "/api/v1/echo", `{"name":"a","admin":true}`, append(bearer, "Content-Type", "application/json"), 422, "admin"},
		{"validation", "POST", "/api/v1/echo", `{"name":""}`, append(bearer, "Content-Type", "application/json"), 422, "name"},
		{"malformed json", "POST", "/api/v1/echo", `{"name":`, append(bearer, "Content-Type", "application/json"), 400, ""},
		{"authenticator fails", "GET", "/api/v1/anything", "", []string{"Authorization", "Bearer broken"}, 500, "request id"},
		{"json accept off the API", "GET", "/nothing", "", []string{"Accept", "application/json"}, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.method, tc.path, tc.body, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			p := problemOf(t, r)
			if !strings.Contains(strings.ToLower(r.body), strings.ToLower(tc.detail)) {
				t.Errorf("problem %+v does not mention %q", p, tc.detail)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") != `Bearer realm="gatehouse"` {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			if strings.Contains(r.body, "token store is down") {
				t.Error("a 5xx leaks the internal error")
			}
		})
	}
	if !strings.Contains(f.logs.String(), "token store is down") {
		t.Error("the internal error of a 5xx was not logged")
	}
}

func TestAPIPrincipalAndOpenAPI(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "POST", "/api/v1/echo", `{"name":"ada"}`, "Authorization", "Bearer good", "Content-Type", "application/json")
	if r.status != 200 || !strings.Contains(r.body, `"principal":"u1"`) || !strings.Contains(r.body, `"name":"ada"`) {
		t.Fatalf("echo = %d %s", r.status, r.body)
	}
	// The OpenAPI document needs no credential.
	r = f.do(t, "GET", "/api/v1/openapi.json", "")
	if r.status != 200 {
		t.Fatalf("openapi.json = %d %s", r.status, r.body)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/echo"] == nil {
		t.Errorf("openapi.json: %v, %+v", err, doc)
	}
}

func TestHTMLErrorPage(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/no-such-page", "", "Accept", "text/html,application/xhtml+xml")
	if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	if !strings.Contains(r.body, "<html") || !strings.Contains(r.body, "Not Found") {
		t.Errorf("not the HTML error page: %s", r.body)
	}
	// HEAD gets the status without a body.
	if r := f.do(t, "HEAD", "/no-such-page", ""); r.status != 404 || r.body != "" {
		t.Errorf("HEAD = %d %q", r.status, r.body)
	}
}

func TestPanicIsLogged500WithoutDetails(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/panic", "/fail"} {
		for _, accept := range []string{"text/html", "application/json"} {
			r := f.do(t, "GET", path, "", "Accept", accept)
			if r.status != 500 {
				t.Fatalf("%s (%s): status %d", path, accept, r.status)
			}
			if strings.Contains(r.body, "secret-") || strings.Contains(r.body, "goroutine") {
				t.Errorf("%s (%s): the 500 leaks details: %s", path, accept, r.body)
			}
			id := r.header.Get("X-Request-Id")
			if id == "" {
				t.Fatalf("%s: no X-Request-Id", path)
			}
			var found bool
			for _, line := range strings.Split(f.logs.String(), "\n") {
				if strings.Contains(line, "request_id="+id) && strings.Contains(line, "secret-") && strings.Contains(line, "level=ERROR") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no ERROR log line with the detail and request_id=%s:\n%s", path, id, f.logs.String())
			}
		}
	}
	// The server still serves after a panic.
	if r := f.do(t, "GET", "/form", ""); r.status != 200 {
		t.Errorf("after a panic: %d", r.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/form", "/no-such-page", "/api/v1/anything", "/panic"} {
		r := f.do(t, "GET", path, "")
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", httpserver.MaxBodyBytes+1)
	r := f.do(t, "POST", "/upload", big, "Accept", "application/json")
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized public body: %d", r.status)
	}
	p := problemOf(t, r)
	if !strings.Contains(p.Detail, "exceeds") {
		t.Errorf("413 detail %q", p.Detail)
	}
	r = f.do(t, "POST", "/api/v1/echo", `{"name":"`+big+`"}`, "Authorization", "Bearer good", "Content-Type", "application/json")
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized API body: %d", r.status)
	}
	problemOf(t, r)

	// Without Content-Length (chunked), the limit still holds.
	req, _ := http.NewRequest("POST", f.srv.URL+"/upload", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body: %d", resp.StatusCode)
	}
	// At the limit is fine.
	if r := f.do(t, "POST", "/upload", big[1:], "Accept", "application/json"); r.status != 200 {
		t.Errorf("body at the limit: %d", r.status)
	}
}

// csrfSession fetches a form and returns the token and the cookie to repeat.
func csrfSession(t *testing.T, f *fixture, path string, cookies ...*http.Cookie) (string, []*http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) < 16 {
		t.Fatalf("GET %s = %d %q", path, resp.StatusCode, b)
	}
	var csrf *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "csrf") {
			csrf = c
		}
	}
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode {
		t.Fatalf("CSRF cookie %+v: want HttpOnly and SameSite=Lax", csrf)
	}
	return string(b), append(cookies, csrf)
}

func postForm(t *testing.T, f *fixture, path string, form url.Values, cookies []*http.Cookie, header ...string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	session := &http.Cookie{Name: "session", Value: "ok"}
	for _, tc := range []struct {
		path    string
		cookies []*http.Cookie
	}{
		{"/form", nil},
		{"/admin/page", []*http.Cookie{session}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			token, cookies := csrfSession(t, f, tc.path, tc.cookies...)
			if got := postForm(t, f, tc.path, url.Values{"x": {"1"}}, cookies); got != http.StatusForbidden {
				t.Errorf("post without token: %d, want 403", got)
			}
			if got := postForm(t, f, tc.path, url.Values{httpserver.CSRFField: {"forged"}}, cookies); got != http.StatusForbidden {
				t.Errorf("post with a wrong token: %d, want 403", got)
			}
			if got := postForm(t, f, tc.path, url.Values{httpserver.CSRFField: {token}}, tc.cookies); got != http.StatusForbidden {
				t.Errorf("post with the token but without its cookie: %d, want 403", got)
			}
			if got := postForm(t, f, tc.path, url.Values{httpserver.CSRFField: {token}}, cookies); got != http.StatusOK {
				t.Errorf("post with token and cookie: %d, want 200", got)
			}
		})
	}
}

func TestSessionRequired(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/admin/page?tab=users", "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?return_to="+url.QueryEscape("/admin/page?tab=users") {
		t.Errorf("GET without session: %d Location %q", r.status, r.header.Get("Location"))
	}
	if got := postForm(t, f, "/admin/page", url.Values{}, nil); got != http.StatusUnauthorized {
		t.Errorf("POST without session: %d, want 401", got)
	}
	if got := postForm(t, f, "/account/anything", url.Values{}, nil); got != http.StatusUnauthorized {
		t.Errorf("POST /account without session: %d, want 401", got)
	}
}

func TestMetricsCountRoutes(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.do(t, "GET", "/form", "")
	}
	f.do(t, "GET", "/no-such-page/123", "")
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var formCount float64
	for _, mf := range mfs {
		if mf.GetName() != "gatehouse_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if strings.Contains(labels["route"], "123") {
				t.Errorf("raw path in a route label: %v", labels)
			}
			if labels["route"] == "/form" && labels["status"] == "200" {
				formCount = m.GetCounter().GetValue()
			}
		}
	}
	if formCount != 3 {
		t.Errorf("GET /form counted %v times, want 3", formCount)
	}
}

func TestIsAPIRequest(t *testing.T) {
	for _, tc := range []struct {
		path, accept string
		want         bool
	}{
		{"/api/v1/users", "text/html", true},
		{"/login", "text/html,application/xhtml+xml", false},
		{"/login", "application/json", true},
		{"/login", "", false},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := httpserver.IsAPIRequest(r); got != tc.want {
			t.Errorf("IsAPIRequest(%s, %q) = %v", tc.path, tc.accept, got)
		}
	}
}

// Routes mounted through Routes.Bearer cannot be reached without a valid
// bearer credential, answer problem+json like /api/v1 (also for errors
// raised before the handler, such as an oversized body), and the group does
// not swallow unknown paths at the root.
func TestBearerGroup(t *testing.T) {
	f := newFixture(t)
	for name, header := range map[string][]string{
		"no credential":  nil,
		"bad credential": {"Authorization", "Bearer nope"},
	} {
		r := f.do(t, "POST", "/access/v1/decide", "{}", header...)
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") ||
			!strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q %s", name, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if r := f.do(t, "POST", "/access/v1/decide", "{}", "Authorization", "Bearer good"); r.status != 200 || !strings.Contains(r.body, `"principal":"u1"`) {
		t.Errorf("good credential: %d %s", r.status, r.body)
	}
	big := strings.Repeat("x", httpserver.MaxBodyBytes+1)
	if r := f.do(t, "POST", "/access/v1/decide", big, "Authorization", "Bearer good"); r.status != http.StatusRequestEntityTooLarge ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("oversized: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r := f.do(t, "GET", "/no-such-page", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", r.status)
	}
}

// fakeReauth confirms the password "right" and renders a marker page.
type fakeReauth struct{}

func (fakeReauth) Confirm(c echo.Context) (bool, bool, error) {
	switch c.FormValue("reauth_password") {
	case "":
		return false, false, nil
	case "right":
		return true, false, nil
	}
	return false, true, c.String(http.StatusUnauthorized, "wrong password page")
}

func (fakeReauth) Challenge(c echo.Context) error {
	return c.String(http.StatusUnauthorized, "confirm it's you page")
}

// stampedSessions authenticates "session=fresh" and "session=stale" cookies
// with an auth time now and an hour ago.
type stampedSessions struct{}

func (stampedSessions) AuthenticateSession(r *http.Request) (principal.Principal, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return principal.Principal{}, httpserver.ErrUnauthenticated
	}
	at := time.Now()
	if c.Value == "stale" {
		at = at.Add(-time.Hour)
	}
	return principal.Principal{Kind: principal.User, ID: "u1", Via: principal.ViaSession, CredentialID: "s1", AuthTime: at}, nil
}

// A sensitive action runs for a fresh session; a stale one gets the
// challenge (a page for a navigation, a reauthentication problem for a
// script's fetch or an API client), and the action runs once the posted
// proof is confirmed.
func TestSensitiveNeedsFreshSession(t *testing.T) {
	s := httpserver.New(httpserver.Options{Logger: logging.Discard(), Session: stampedSessions{}, Reauth: fakeReauth{}, ReauthMaxAge: 5 * time.Minute})
	ran := 0
	s.Routes.Account.POST("/act", func(c echo.Context) error {
		ran++
		return c.String(http.StatusOK, "done "+c.FormValue("thing"))
	}, s.Routes.Sensitive)
	srv := httptest.NewServer(s.Echo)
	defer srv.Close()
	post := func(cookie string, form url.Values, header ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/account/act", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin") // passes CSRF like a same-origin form
		req.Header.Set("Cookie", "session="+cookie)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := post("fresh", url.Values{"thing": {"a"}}); st != 200 || body != "done a" {
		t.Fatalf("fresh: %d %s", st, body)
	}
	if st, body := post("stale", url.Values{"thing": {"b"}}); st != 401 || body != "confirm it's you page" {
		t.Fatalf("stale navigation: %d %s", st, body)
	}
	if st, body := post("stale", url.Values{"thing": {"b"}}, "Sec-Fetch-Mode", "cors"); st != 401 || !strings.Contains(body, httpserver.ProblemReauthenticate) {
		t.Fatalf("stale fetch: %d %s", st, body)
	}
	if st, body := post("stale", url.Values{"thing": {"b"}, "reauth_password": {"wrong"}}); st != 401 || body != "wrong password page" {
		t.Fatalf("wrong proof: %d %s", st, body)
	}
	if ran != 1 {
		t.Fatalf("the action ran %d times before the proof, want once (fresh)", ran)
	}
	if st, body := post("stale", url.Values{"thing": {"b"}, "reauth_password": {"right"}}); st != 200 || body != "done b" || ran != 2 {
		t.Fatalf("confirmed: %d %s (ran %d)", st, body, ran)
	}
}

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer  abc ": "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"":             "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		got, ok := httpserver.BearerToken(r)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v", h, got, ok)
		}
	}
}

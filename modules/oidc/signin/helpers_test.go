package signin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/web"
)

// pagesFakeFlow is a hand-written authFlow: it serves the requests a test
// puts in and records how each ended.
type pagesFakeFlow struct {
	mu        sync.Mutex
	reqs      map[string]flow.PendingRequest
	completed map[string]flow.Authentication
	failed    map[string]string
}

func newPagesFakeFlow() *pagesFakeFlow {
	return &pagesFakeFlow{reqs: map[string]flow.PendingRequest{}, completed: map[string]flow.Authentication{}, failed: map[string]string{}}
}

func (f *pagesFakeFlow) add(r flow.PendingRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.ClientID == "" {
		r.ClientID = "client-" + r.ID
	}
	if r.ClientName == "" {
		r.ClientName = "Example App"
	}
	if r.Scopes == nil {
		r.Scopes = []string{"openid"}
	}
	f.reqs[r.ID] = r
}

func (f *pagesFakeFlow) PendingRequest(_ context.Context, id string) (flow.PendingRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[id]
	if !ok {
		return flow.PendingRequest{}, flow.ErrUnknownAuthRequest
	}
	return r, nil
}

func (f *pagesFakeFlow) CompleteRequest(_ context.Context, id string, a flow.Authentication) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.reqs[id]; !ok {
		return "", flow.ErrUnknownAuthRequest
	}
	delete(f.reqs, id)
	f.completed[id] = a
	return "https://app.example/cb?code=code-" + id, nil
}

func (f *pagesFakeFlow) FailRequest(_ context.Context, id, code, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.reqs[id]; !ok {
		return "", flow.ErrUnknownAuthRequest
	}
	delete(f.reqs, id)
	f.failed[id] = code
	return "https://app.example/cb?error=" + code, nil
}

func (f *pagesFakeFlow) completion(id string) (flow.Authentication, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.completed[id]
	return a, ok
}

func (f *pagesFakeFlow) failure(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed[id]
}

// Test users.
const (
	aliceID       = "0190a0a0-0000-7000-8000-00000000a11c"
	alicePassword = "correct horse battery staple"
)

// pagesTestEnv is the pages mounted on the kernel's real HTTP server over a
// migrated SQLite database, with the real audit service.
type pagesTestEnv struct {
	t     *testing.T
	db    database.DB
	clock *testutil.Clock
	flow  *pagesFakeFlow
	users *oidctest.Users
	pages *Pages
	srv   *httptest.Server
}

func newPagesTestEnv(t *testing.T, configure ...func(*Config)) *pagesTestEnv {
	t.Helper()
	return newPagesTestEnvOn(t, testutil.NewSQLite(t), configure...)
}

// newPagesTestEnvOn is newPagesTestEnv over db (for tests on both dialects).
func newPagesTestEnvOn(t *testing.T, db database.DB, configure ...func(*Config)) *pagesTestEnv {
	t.Helper()
	renderer, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &pagesTestEnv{
		t: t, db: db,
		// Real time (frozen): the cookie jar judges cookie expiry by it.
		clock: testutil.NewClock(time.Now()),
		flow:  newPagesFakeFlow(), users: oidctest.NewUsers(),
	}
	e.users.Add(identity.User{ID: aliceID, Email: "alice@example.com", Username: "alice", Name: "Alice Liddell"}, alicePassword)
	cfg := Config{
		DB: db.Gorm, Renderer: renderer, Users: e.users, Audit: audit.New(db), Flow: e.flow,
		Issuer: "http://localhost:8080", Now: e.clock.Now,
	}
	for _, f := range configure {
		f(&cfg)
	}
	e.pages, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Options{
		Logger:  slog.New(slog.DiscardHandler),
		Session: e.pages, ErrorPage: renderer,
	})
	e.pages.Mount(srv.Routes)
	e.srv = httptest.NewServer(srv.Echo)
	t.Cleanup(e.srv.Close)
	return e
}

// auditCount counts audit events with an action.
func (e *pagesTestEnv) auditCount(action string) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Gorm.Table("audit_events").Where("action = ?", action).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sessionCount counts session rows of a user.
func (e *pagesTestEnv) sessionCount(userID string) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Gorm.Table("oidc_sessions").Where("user_id = ?", userID).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each step.
type testBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (e *pagesTestEnv) browser() *testBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &testBrowser{t: e.t, base: e.srv.URL, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

type testPage struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
	resp   *http.Response
}

func (b *testBrowser) do(req *http.Request) testPage {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := testPage{status: resp.StatusCode, header: resp.Header, body: string(raw), resp: resp}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.doc, err = html.Parse(strings.NewReader(p.body))
		if err != nil {
			b.t.Fatal(err)
		}
	}
	return p
}

func (b *testBrowser) get(path string) testPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *testBrowser) post(path string, form url.Values) testPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit reads the form on the page at path (its csrf_token and hidden
// fields), fills fields, and posts it to action.
func (b *testBrowser) submit(path, action string, fields url.Values) testPage {
	b.t.Helper()
	pg := b.get(path)
	if pg.status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d\n%s", path, pg.status, pg.body)
	}
	form := url.Values{}
	for _, in := range htmlFindAll(pg.doc, func(n *html.Node) bool { return n.Data == "input" && htmlAttr(n, "type") == "hidden" }) {
		form.Set(htmlAttr(in, "name"), htmlAttr(in, "value"))
	}
	if form.Get("csrf_token") == "" {
		b.t.Fatalf("GET %s: no csrf_token in the form", path)
	}
	for k, v := range fields {
		form[k] = v
	}
	return b.post(action, form)
}

// signIn signs in as alice through the form and checks the redirect.
func (b *testBrowser) signIn(query string) testPage {
	b.t.Helper()
	pg := b.submit("/login"+query, "/login", url.Values{"username": {"alice@example.com"}, "password": {alicePassword}})
	if pg.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in: status %d\n%s", pg.status, pg.body)
	}
	return pg
}

func (p testPage) location() string { return p.header.Get("Location") }

// text returns the visible text of a node.
func htmlText(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(sb.String()), " ")
}

func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func htmlFindAll(root *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n == nil {
			return
		}
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

// fieldByLabel finds the control a visible <label> names (its accessible
// name), as a browser test would.
func fieldByLabel(t *testing.T, doc *html.Node, label string) *html.Node {
	t.Helper()
	for _, l := range htmlFindAll(doc, func(n *html.Node) bool { return n.Data == "label" }) {
		if htmlText(l) != label {
			continue
		}
		id := htmlAttr(l, "for")
		fields := htmlFindAll(doc, func(n *html.Node) bool { return (n.Data == "input" || n.Data == "select") && htmlAttr(n, "id") == id })
		if id == "" || len(fields) != 1 {
			t.Fatalf("label %q does not name exactly one field", label)
		}
		return fields[0]
	}
	t.Fatalf("no label %q", label)
	return nil
}

// buttonNamed finds a button by its text.
func buttonNamed(doc *html.Node, name string) *html.Node {
	bs := htmlFindAll(doc, func(n *html.Node) bool { return n.Data == "button" && htmlText(n) == name })
	if len(bs) == 0 {
		return nil
	}
	return bs[0]
}

// sessionCookieOf returns the gatehouse_session cookie a response set.
func sessionCookieOf(p testPage) *http.Cookie {
	for _, c := range p.resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

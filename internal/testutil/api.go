package testutil

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// API is a real Gatehouse HTTP server (httpserver.New, every middleware)
// with modules mounted, for table-driven API tests in the style of
// pocketbase's tests/api.go. A bearer token names a principal through
// Tokens; "{name}" in a path or body is replaced by Vars["name"].
type API struct {
	URL string
	// Handler is the server's handler, for in-process benchmarks.
	Handler http.Handler
	// Tokens maps bearer tokens to principals; tests may add to it.
	Tokens map[string]principal.Principal
	// Vars are placeholders expanded in paths and bodies ("{alice}").
	Vars map[string]string
	// Fingerprint summarizes the state a refused request must not change
	// (row counts, latest update times); Scenario.Unchanged checks it.
	Fingerprint func() string
	mu          sync.RWMutex
}

// NewAPI starts the server with opts (the bearer authenticator is the token
// table, then opts.Bearer for tokens not in it) and mounts each module.
func NewAPI(t testing.TB, opts httpserver.Options, mods ...module.Module) *API {
	t.Helper()
	return NewAPIAt(t, func(string) (httpserver.Options, []module.Module) { return opts, mods })
}

// NewAPIAt is NewAPI for modules that must know the server's URL before
// they are built (an OIDC issuer): build gets it and returns the options
// and the modules.
func NewAPIAt(t testing.TB, build func(url string) (httpserver.Options, []module.Module)) *API {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	a := &API{URL: "http://" + ts.Listener.Addr().String(), Tokens: map[string]principal.Principal{}, Vars: map[string]string{}}
	opts, mods := build(a.URL)
	fallback := opts.Bearer
	opts.Bearer = httpserver.BearerFunc(func(ctx context.Context, token string) (principal.Principal, error) {
		a.mu.RLock()
		p, ok := a.Tokens[token]
		a.mu.RUnlock()
		if ok {
			return p, nil
		}
		if fallback != nil {
			return fallback.AuthenticateBearer(ctx, token)
		}
		return principal.Principal{}, httpserver.ErrUnauthenticated
	})
	if opts.Logger == nil {
		opts.Logger = logging.Discard()
	}
	srv := httpserver.New(opts)
	for _, m := range mods {
		m.Mount(srv.Routes)
	}
	a.Handler = srv.Echo
	ts.Config.Handler = srv.Echo
	ts.Start()
	return a
}

// User adds a token that authenticates as user id (through an API key).
func (a *API) User(token, id string, scopes ...string) {
	p := principal.Principal{Kind: principal.User, ID: id, Via: principal.ViaAPIKey}
	if len(scopes) > 0 {
		p.Scopes = scopes
	}
	a.mu.Lock()
	a.Tokens[token] = p
	a.mu.Unlock()
}

// Response is what the server answered.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends one request; a relative path is under /api/v1 unless it starts
// with "//" (then it is taken from the root: "//access/v1/evaluation").
func (a *API) Do(t testing.TB, method, path, token, body string, header ...string) Response {
	t.Helper()
	url := a.URL + "/api/v1" + a.expand(path)
	if strings.HasPrefix(path, "//") {
		url = a.URL + a.expand(path[1:])
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(a.expand(body))
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (a *API) expand(s string) string {
	for k, v := range a.Vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// Scenario is one request and what it must answer.
type Scenario struct {
	Name                      string
	Method, Path, Token, Body string
	// Header holds extra request headers as name, value pairs; they replace
	// the defaults (a "Content-Type" pair sends a body that is not JSON).
	Header       []string
	WantStatus   int
	WantContains []string
	WantAbsent   []string
	// WantHeader: each response header must contain the given value.
	WantHeader map[string]string
	// Check, when set, makes further assertions on the answer.
	Check func(t *testing.T, res Response)
	// Unchanged: the request must leave Fingerprint() as it was.
	Unchanged bool
}

// Run runs each scenario as a subtest, in order. Every answer of 400 or
// more must be application/problem+json.
func (a *API) Run(t *testing.T, scenarios ...Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Helper()
			before := ""
			if sc.Unchanged {
				if a.Fingerprint == nil {
					t.Fatal("Unchanged needs API.Fingerprint")
				}
				before = a.Fingerprint()
			}
			res := a.Do(t, sc.Method, sc.Path, sc.Token, sc.Body, sc.Header...)
			if res.Status != sc.WantStatus {
				t.Fatalf("%s %s: status %d, want %d: %s", sc.Method, sc.Path, res.Status, sc.WantStatus, res.Body)
			}
			if res.Status >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s %s: error with content type %q: %s", sc.Method, sc.Path, res.Header.Get("Content-Type"), res.Body)
			}
			for _, w := range sc.WantContains {
				if !strings.Contains(res.Body, a.expand(w)) {
					t.Fatalf("%s %s: body does not contain %q: %s", sc.Method, sc.Path, w, res.Body)
				}
			}
			for _, w := range sc.WantAbsent {
				if strings.Contains(res.Body, a.expand(w)) {
					t.Fatalf("%s %s: body contains %q: %s", sc.Method, sc.Path, w, res.Body)
				}
			}
			for k, v := range sc.WantHeader {
				if got := res.Header.Get(k); !strings.Contains(got, v) {
					t.Fatalf("%s %s: header %s = %q, want %q", sc.Method, sc.Path, k, got, v)
				}
			}
			if sc.Check != nil {
				sc.Check(t, res)
			}
			if sc.Unchanged {
				if after := a.Fingerprint(); after != before {
					t.Fatalf("%s %s changed state: %s → %s", sc.Method, sc.Path, before, after)
				}
			}
		})
	}
}

// FakeAuthorizer is the one stand-in for the authz module in module tests.
// Grants maps a principal id to rights "<type>:<action>" (either part may be
// "*"); OwnerActions are what anyone may do to a resource they own. A
// principal with scopes also needs a scope allowing the right. Decide, when
// set, replaces the grant table (after the scope check) for modules whose
// tests need role logic. Asked records every question, as
// "<type>:<id> <action>".
type FakeAuthorizer struct {
	Grants       map[string][]string
	OwnerActions []string
	Decide       func(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)

	mu    sync.Mutex
	asked []string
}

// Can implements the modules' Authorizer interfaces.
func (f *FakeAuthorizer) Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
	f.mu.Lock()
	f.asked = append(f.asked, res.String()+" "+action)
	f.mu.Unlock()
	if p.Scopes != nil && !RightsAllow(p.Scopes, res.Type, action) {
		return false, nil
	}
	if f.Decide != nil {
		return f.Decide(ctx, p, res, action)
	}
	if RightsAllow(f.Grants[p.ID], res.Type, action) {
		return true, nil
	}
	return p.ID != "" && res.OwnerID == p.ID && slices.Contains(f.OwnerActions, action), nil
}

// Asked returns the questions asked so far.
func (f *FakeAuthorizer) Asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// RightsAllow reports whether one of rights ("<type>:<action>", "*" parts)
// allows action on typ.
func RightsAllow(rights []string, typ, action string) bool {
	for _, r := range rights {
		t, a, _ := strings.Cut(r, ":")
		if (t == "*" || t == typ) && (a == "*" || a == action) {
			return true
		}
	}
	return false
}

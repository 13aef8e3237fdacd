package provider

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// providerFakeUsers is a hand-written UserDirectory.
type providerFakeUsers struct {
	mu    sync.Mutex
	users map[string]identity.User
	roles map[string][]string
}

func newProviderFakeUsers() *providerFakeUsers {
	return &providerFakeUsers{users: map[string]identity.User{}, roles: map[string][]string{}}
}

func (f *providerFakeUsers) add(u identity.User, roles ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.Status == "" {
		u.Status = identity.StatusActive
	}
	f.users[u.ID] = u
	f.roles[u.ID] = roles
}

func (f *providerFakeUsers) UserByID(_ context.Context, id string) (identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return identity.User{}, identity.ErrNotFound
	}
	return u, nil
}

func (f *providerFakeUsers) RolesOf(_ context.Context, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[id]; !ok {
		return nil, identity.ErrNotFound
	}
	return f.roles[id], nil
}

// fakeAuthorizer allows everything unless deny is set.
type fakeAuthorizer struct{ deny bool }

func (a fakeAuthorizer) Can(context.Context, principal.Principal, principal.Resource, string) (bool, error) {
	return !a.deny, nil
}

// fakeSessions records ended sessions (the pages' sessionStore).
type fakeSessions struct {
	mu    sync.Mutex
	ended []string
}

func (s *fakeSessions) EndSession(_ context.Context, id string) error {
	s.mu.Lock()
	s.ended = append(s.ended, id)
	s.mu.Unlock()
	return nil
}

func (s *fakeSessions) endedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ended...)
}

func testMasterKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// newTestProvider builds and initialises a provider on db with issuer.
func newTestProvider(t testing.TB, db database.DB, issuer string, users UserDirectory, mk []byte, mod ...func(*Options)) *Provider {
	t.Helper()
	o := Options{Issuer: issuer, MasterKey: mk}
	for _, m := range mod {
		m(&o)
	}
	auditLog := audit.NewService(db.Gorm)
	cl := clients.NewService(db.Gorm, auditLog, clients.Options{Now: o.Now})
	p, err := NewProvider(db, users, cl, auditLog, fakeAuthorizer{}, o)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	cl.AddDeleteListener(p)
	if err := p.Init(context.Background()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return p
}

// registry is the provider's client registry (a clients.Service in tests).
func registry(p *Provider) *clients.Service { return p.clients.(*clients.Service) }

// testServer is a provider behind a real HTTP server whose URL is the issuer.
type testServer struct {
	*httptest.Server
	p        *Provider
	users    *providerFakeUsers
	sessions *fakeSessions
	db       database.DB
}

func newTestServer(t testing.TB, db database.DB, mod ...func(*Options)) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	users := newProviderFakeUsers()
	p := newTestProvider(t, db, issuer, users, testMasterKey(t), mod...)
	sess := &fakeSessions{}
	p.SetSessions(sess)
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, p: p, users: users, sessions: sess, db: db}
}

func systemCtx() context.Context {
	return principal.With(context.Background(), principal.SystemPrincipal)
}

func mustCreateClient(t testing.TB, p *Provider, n clients.NewClient) (clients.Client, string) {
	t.Helper()
	c, secret, err := registry(p).Create(systemCtx(), n)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c, secret
}

// noRedirect is an HTTP client that reports redirects instead of following.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

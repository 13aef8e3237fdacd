package provider

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

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

// newTestProvider builds and initialises a provider on db with issuer.
func newTestProvider(t testing.TB, db database.DB, issuer string, users UserDirectory, mk []byte, mod ...func(*Options)) *Provider {
	t.Helper()
	o := Options{Issuer: issuer, MasterKey: mk}
	for _, m := range mod {
		m(&o)
	}
	auditLog := audit.New(db)
	cl := clients.New(db, clients.Deps{Audit: auditLog}, clients.Options{Now: o.Now})
	p, err := NewProvider(db, users, cl, auditLog, fakeAuthorizer{}, o)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	cl.AddDeleteListener(p)
	if err := p.Init(context.Background()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	startWatch(t, p)
	return p
}

// startWatch runs the provider's revocation watch, as Run does in the
// server, until the test ends, and waits until it answers.
func startWatch(t testing.TB, p *Provider) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.watch.run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := p.watch.stamp(); ok {
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation watch did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// registry is the provider's client registry (a clients.Service in tests).
func registry(p *Provider) *clients.Service { return p.clients.(*clients.Service) }

// testServer is a provider behind a real HTTP server whose URL is the issuer.
type testServer struct {
	*httptest.Server
	p        *Provider
	users    *oidctest.Users
	sessions *fakeSessions
	db       database.DB
}

func newTestServer(t testing.TB, db database.DB, mod ...func(*Options)) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	users := oidctest.NewUsers()
	p := newTestProvider(t, db, issuer, users, oidctest.MasterKey(t), mod...)
	sess := &fakeSessions{}
	p.SetSessions(sess)
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, p: p, users: users, sessions: sess, db: db}
}

func mustCreateClient(t testing.TB, p *Provider, n clients.NewClient) (clients.Client, string) {
	t.Helper()
	c, secret, err := registry(p).Create(oidctest.SystemCtx(), n)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c, secret
}

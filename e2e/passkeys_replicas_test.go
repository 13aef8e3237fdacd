package e2e

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestPasskeyReplicas: a second replica on the same PostgreSQL accepts a
// passkey registered on the first. Two servers share one database, one
// master key and one issuer, http://localhost:<port> of a load balancer in
// front of them (a reverse proxy whose backend the test switches; both
// servers trust it for X-Forwarded-For). The issuer is the WebAuthn origin
// and its host the RP ID, so to the browser the replicas are one site.
// In Chromium with a virtual authenticator: through replica A, sign in with
// a password and "Add passkey" on /account; sign out. Through replica B,
// "Use passkey" alone (no username) signs in as that user. Then one
// ceremony spans both: the proxy hands "Use passkey"'s begin request to A
// and switches to B before A's answer reaches the browser, so B finishes
// the ceremony A began. The proxy's record of which replica answered which
// request is checked, so the test cannot pass on one replica alone.
func TestPasskeyReplicas(t *testing.T) {
	t.Parallel()
	lb := newSwitchProxy(t)
	dbURL := newDatabaseURL(t, postgresDB)
	key := newMasterKey()
	env := []string{"GATEHOUSE_ISSUER=" + lb.URL, "GATEHOUSE_TRUSTED_PROXIES=127.0.0.1"}
	a := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key, Env: env})
	b := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key, Env: env})
	replicaA, replicaB := lb.backend(t, "A", a), lb.backend(t, "B", b)
	for _, s := range []*server{a, b} {
		if d := discoveryDoc(t, s); d["issuer"] != lb.URL {
			t.Fatalf("replica %s has the issuer %v, want the shared %s", s.URL, d["issuer"], lb.URL)
		}
	}
	password := "correct horse " + randomHex(4)
	createUser(t, a, "alice@example.com", password)

	ctx := newBrowser(t)
	auth := addVirtualAuthenticator(t, ctx)
	// No autofill (conditional mediation) on /login: it would begin a
	// ceremony of its own as the page loads; only the button is used here.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`,
	}); err != nil {
		t.Fatal(err)
	}
	signedInAsAlice := func(when string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			path, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
			if err == nil && path == "/account" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not signed in on /account after 20s; %s", when, pageState(ctx))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if text := browserText(t, ctx); !strings.Contains(text, "alice@example.com") {
			t.Fatalf("%s: /account is not alice's:\n%s", when, text)
		}
	}

	// Through A: sign in with the password, register a passkey, sign out.
	lb.use(replicaA)
	from := lb.mark()
	browserNavigate(t, ctx, lb.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "alice@example.com", password)
	signedInAsAlice("password sign-in through A")
	browserClick(t, ctx, "Add passkey")
	browserDo(t, ctx, "the new passkey in the list", chromedp.WaitVisible(chromedp.CSS("li[data-passkey-id]")))
	if n := len(authenticatorCredentials(t, ctx, auth)); n != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1 (resident)", n)
	}
	browserClick(t, ctx, "Sign out")
	waitPath(t, ctx, "/logout")
	lb.expectServed(t, from, "POST", "/account/passkeys/register/finish", "A")
	lb.expectOnly(t, from, "A")

	// Through B: "Use passkey" alone signs alice in.
	lb.use(replicaB)
	from = lb.mark()
	count := signCount(t, ctx, auth)
	browserNavigate(t, ctx, lb.URL+"/login")
	browserClick(t, ctx, "Use passkey")
	signedInAsAlice("passkey sign-in through B")
	if c := signCount(t, ctx, auth); c <= count {
		t.Errorf("the sign count stayed %v: B signed in without an assertion", c)
	}
	browserClick(t, ctx, "Sign out")
	waitPath(t, ctx, "/logout")
	lb.expectServed(t, from, "POST", "/login/passkey/begin", "B")
	lb.expectServed(t, from, "POST", "/login/passkey/finish", "B")
	lb.expectOnly(t, from, "B")

	// One ceremony across both: begun on A, finished on B.
	lb.use(replicaA)
	browserNavigate(t, ctx, lb.URL+"/login")
	from = lb.mark()
	lb.switchAfter("/login/passkey/begin", replicaB)
	browserClick(t, ctx, "Use passkey")
	signedInAsAlice("passkey ceremony begun on A, finished on B")
	lb.expectServed(t, from, "POST", "/login/passkey/begin", "A")
	lb.expectServed(t, from, "POST", "/login/passkey/finish", "B")
}

// switchProxy is a load balancer in front of replicas: a reverse proxy on a
// loopback port whose backend is switched atomically. It keeps the client's
// Host and adds X-Forwarded-For/-Host/-Proto, and records which backend
// answered each request.
type switchProxy struct {
	URL     string // http://localhost:PORT (the replicas' issuer)
	current atomic.Pointer[proxyBackend]
	// then, when set, switches the backend once a request to its path has
	// been answered, before the answer reaches the client.
	then atomic.Pointer[switchRule]

	mu   sync.Mutex
	hops []proxyHop
}

type proxyBackend struct {
	name string
	rp   *httputil.ReverseProxy
}

type switchRule struct {
	path string
	to   *proxyBackend
}

type proxyHop struct{ backend, method, path string }

func newSwitchProxy(t *testing.T) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{URL: "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// backend returns the proxy's route to s.
func (p *switchProxy) backend(t *testing.T, name string, s *server) *proxyBackend {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &proxyBackend{name: name, rp: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		ModifyResponse: func(resp *http.Response) error {
			rule := p.then.Load()
			if rule != nil && resp.Request.URL.Path == rule.path && resp.StatusCode == http.StatusOK && p.then.CompareAndSwap(rule, nil) {
				p.current.Store(rule.to)
			}
			return nil
		},
	}}
}

func (p *switchProxy) serve(w http.ResponseWriter, r *http.Request) {
	b := p.current.Load()
	if b == nil {
		http.Error(w, "no backend", http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.hops = append(p.hops, proxyHop{b.name, r.Method, r.URL.Path})
	p.mu.Unlock()
	b.rp.ServeHTTP(w, r)
}

func (p *switchProxy) use(b *proxyBackend) { p.current.Store(b) }

// switchAfter switches to b once a request to path has been answered with
// 200 (the next request goes to b).
func (p *switchProxy) switchAfter(path string, b *proxyBackend) {
	p.then.Store(&switchRule{path: path, to: b})
}

// mark is the position in the record of requests from which a check starts.
func (p *switchProxy) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hops)
}

func (p *switchProxy) since(from int) []proxyHop {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxyHop(nil), p.hops[from:]...)
}

// expectServed checks that since from, method path was requested and that
// each such request was answered by backend.
func (p *switchProxy) expectServed(t *testing.T, from int, method, path, backend string) {
	t.Helper()
	n := 0
	for _, h := range p.since(from) {
		if h.method == method && h.path == path {
			n++
			if h.backend != backend {
				t.Errorf("%s %s went to replica %s, want %s", method, path, h.backend, backend)
			}
		}
	}
	if n == 0 {
		t.Errorf("no %s %s went through the proxy (requests: %v)", method, path, p.since(from))
	}
}

// expectOnly checks that every request since from went to backend.
func (p *switchProxy) expectOnly(t *testing.T, from int, backend string) {
	t.Helper()
	for _, h := range p.since(from) {
		if h.backend != backend {
			t.Errorf("%s %s went to replica %s, want only %s", h.method, h.path, h.backend, backend)
		}
	}
}

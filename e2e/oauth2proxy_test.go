package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// oauth2ProxyVersion is the oauth2-proxy scripts/test-deps.sh builds.
const oauth2ProxyVersion = "v7.15.6"

// oauth2ProxyBinary is scripts/test-deps.sh's build in GATEHOUSE_BIN_DIR
// (default ~/.cache/gatehouse-bin), else one on PATH; the test fails
// without it.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_BIN_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "gatehouse-bin")
	}
	if p := filepath.Join(dir, "oauth2-proxy"); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath("oauth2-proxy"); err == nil {
		return p
	}
	t.Fatalf("oauth2-proxy is missing in %s and on PATH: run scripts/test-deps.sh (it builds oauth2-proxy %s)", dir, oauth2ProxyVersion)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// oauth2ProxyArgs is the configuration README's oauth2-proxy subsection
// shows: issuer, proxy (its public URL) and upstream are URLs; the test adds
// only --cookie-secure=false (plain http on loopback).
func oauth2ProxyArgs(issuer, proxy, upstream, clientID, clientSecret, cookieSecret, role string) []string {
	u, _ := url.Parse(proxy)
	return []string{
		"--http-address=" + u.Host,
		"--provider=oidc",
		"--oidc-issuer-url=" + issuer,
		"--client-id=" + clientID,
		"--client-secret=" + clientSecret,
		"--redirect-url=" + proxy + "/oauth2/callback",
		"--code-challenge-method=S256",
		"--scope=openid email profile offline_access roles",
		"--oidc-groups-claim=roles",
		"--allowed-group=" + role,
		"--email-domain=*",
		"--cookie-secret=" + cookieSecret,
		"--cookie-refresh=1m",
		"--skip-provider-button",
		"--pass-access-token",
		"--backend-logout-url=" + issuer + "/end_session?id_token_hint={id_token}",
		"--upstream=" + upstream,
	}
}

// recordingUpstream answers 200 with the headers it received (JSON) and
// counts its hits.
type recordingUpstream struct {
	URL  string
	mu   sync.Mutex
	hits int
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	r := &recordingUpstream{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits++
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(req.Header)
	}))
	t.Cleanup(up.Close)
	r.URL = up.URL
	return r
}

func (r *recordingUpstream) Hits() int { r.mu.Lock(); defer r.mu.Unlock(); return r.hits }

// startOAuth2Proxy runs oauth2-proxy with args until the test ends and
// returns its log once its /ping answers.
func startOAuth2Proxy(t *testing.T, base string, args []string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(oauth2ProxyBinary(t), append(args, "--cookie-secure=false")...)
	cmd.Dir = t.TempDir()
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("--- oauth2-proxy log ---\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("oauth2-proxy exited at start:\n%s", logs.String())
		default:
		}
		if resp, err := http.Get(base + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy at %s does not answer\n%s", base, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOAuth2ProxyBFF runs oauth2-proxy as a browser BFF (backend for
// frontend) against Gatehouse: the code flow with PKCE, the roles claim as
// its groups, the user's identity and access token at the upstream; a user
// without the allowed role or with an unverified email is refused; signing
// out through oauth2-proxy ends the Gatehouse session (backend logout).
func TestOAuth2ProxyBFF(t *testing.T) {
	t.Parallel()
	oauth2ProxyBinary(t) // fail early, before Gatehouse starts
	srv := startServer(t, serverOpts{})
	const role = "invoices"
	api(srv, srv.AdminKey(t)).do(t, http.MethodPost, "/roles", map[string]any{"name": role, "description": "invoices app users"}).
		expect(t, http.StatusCreated, http.StatusOK)
	password := "pw-" + randomHex(8)
	newUser := func(email string, verified bool, roles ...string) string {
		t.Helper()
		args := []string{"users", "create", "--email", email, "--name", "User " + email, "--password-stdin"}
		if verified {
			args = append(args, "--email-verified")
		}
		for _, r := range roles {
			args = append(args, "--role", r)
		}
		return mustCLI(t, srv, password+"\n", args...)
	}
	aliceID := newUser("alice@example.com", true, role)
	newUser("bob@example.com", true)          // verified, not in the role
	newUser("carol@example.com", false, role) // in the role, email not verified

	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	proxy := "http://127.0.0.1:" + strconv.Itoa(port)
	bff := createOIDCClient(t, srv, "--name", "invoices-bff", "--redirect-uri", proxy+"/oauth2/callback", "--first-party",
		"--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access", "--scope", "roles")
	up := newRecordingUpstream(t)
	proxyLog := startOAuth2Proxy(t, proxy, oauth2ProxyArgs(srv.URL, proxy, up.URL, bff.ID, bff.Secret, randomHex(16), role))

	// browser: the cookie-keeping user agent, following redirects across
	// oauth2-proxy, Gatehouse and the upstream.
	browser := func() *userAgent {
		ua := newUserAgent(t, srv)
		ua.client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
			if len(via) > 20 {
				return http.ErrUseLastResponse
			}
			return nil
		}
		return ua
	}
	gh, _ := url.Parse(srv.URL)
	// signInThroughProxy asks the proxy for /invoices, expects Gatehouse's
	// /login and signs in; it returns where the redirects end.
	signInThroughProxy := func(ua *userAgent, email string) *uaResponse {
		t.Helper()
		page := ua.get(proxy + "/invoices?x=1")
		if page.Status != http.StatusOK || page.Final.Host != gh.Host || page.Final.Path != "/login" {
			t.Fatalf("%s: an unauthenticated request ended at %s (%d), want Gatehouse's /login\n%.800s", email, page.Final, page.Status, page.Body)
		}
		if q := page.Final.Query(); q.Get("client_id") != "" && q.Get("client_id") != bff.ID {
			t.Errorf("login for client %q", q.Get("client_id"))
		}
		return ua.submit(page, findForm(t, page.Body, "password"), url.Values{"username": {email}, "password": {password}})
	}

	t.Run("allowed", func(t *testing.T) {
		ua := browser()
		res := signInThroughProxy(ua, "alice@example.com")
		if res.Status != http.StatusOK || res.Final.String() != proxy+"/invoices?x=1" {
			t.Fatalf("after signing in: %s (%d), want the upstream's answer at %s/invoices?x=1\n%.800s", res.Final, res.Status, proxy, res.Body)
		}
		var seen http.Header
		res.decode(t, &seen)
		if seen.Get("X-Forwarded-User") != aliceID || seen.Get("X-Forwarded-Email") != "alice@example.com" ||
			!strings.Contains(seen.Get("X-Forwarded-Groups"), role) {
			t.Errorf("upstream saw X-Forwarded-User %q, -Email %q, -Groups %q; want %s, alice@example.com, %s",
				seen.Get("X-Forwarded-User"), seen.Get("X-Forwarded-Email"), seen.Get("X-Forwarded-Groups"), aliceID, role)
		}
		access := seen.Get("X-Forwarded-Access-Token")
		verifier := newProvider(t, srv).Verifier(&oidc.Config{ClientID: bff.ID, SupportedSigningAlgs: []string{"ES256", "RS256"}})
		if tok, err := verifier.Verify(ctxTimeout(t), access); err != nil || tok.Subject != aliceID {
			t.Errorf("X-Forwarded-Access-Token %.40q: %v, want Gatehouse's access token for alice", access, err)
		}
		// The session cookie carries on without Gatehouse.
		again := ua.get(proxy + "/invoices/2")
		if again.Status != http.StatusOK || again.Final.Host != strings.TrimPrefix(proxy, "http://") {
			t.Errorf("second request: %s (%d)", again.Final, again.Status)
		}

		// Sign out through oauth2-proxy: its cookie goes and, through
		// --backend-logout-url, so does the Gatehouse session: the next
		// request needs the password again.
		out := ua.get(proxy + "/oauth2/sign_out?rd=" + url.QueryEscape("/invoices"))
		if out.Final.Host != gh.Host || out.Final.Path != "/login" || out.Status != http.StatusOK {
			t.Errorf("after sign-out the next request ended at %s (%d), want Gatehouse's /login (the session ended)\n%.400s", out.Final, out.Status, out.Body)
		}
	})

	for _, tc := range []struct {
		name, email string
		status      int
		logged      string // oauth2-proxy's reason
	}{
		{"without the role", "bob@example.com", http.StatusForbidden, "[AuthFailure] Invalid authentication via OAuth2: unauthorized"},
		{"unverified email", "carol@example.com", http.StatusForbidden, "email in id_token (carol@example.com) isn't verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.Hits()
			res := signInThroughProxy(browser(), tc.email)
			if res.Status != tc.status || res.Final.Host != strings.TrimPrefix(proxy, "http://") || res.Final.Path != "/oauth2/callback" {
				t.Errorf("%s: ended at %s (%d), want oauth2-proxy's refusal (%d) at its callback\n%.400s", tc.email, res.Final, res.Status, tc.status, res.Body)
			}
			// oauth2-proxy's log reaches us through a pipe, possibly after
			// its answer: wait a moment for the line.
			logged := func() bool {
				return slices.ContainsFunc(strings.Split(proxyLog.String(), "\n"), func(l string) bool {
					return strings.Contains(l, tc.email) && strings.Contains(l, tc.logged)
				})
			}
			for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if !logged() {
				t.Errorf("oauth2-proxy did not log %q", tc.logged)
			}
			if up.Hits() != before {
				t.Errorf("%s reached the upstream", tc.email)
			}
		})
	}
}

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTrustedProxyClientAddress puts a real nginx in front of Gatehouse
// (CONTRACT: GATEHOUSE_TRUSTED_PROXIES). nginx appends its peer to
// X-Forwarded-For ($proxy_add_x_forwarded_for) and connects from 127.0.0.1.
// Test clients connect to nginx from distinct loopback addresses
// (127.0.0.0/8 is all local on Linux), some sending their own
// X-Forwarded-For, and fail a sign-in; the audit event of each failure
// shows which address Gatehouse took for the client.
func TestTrustedProxyClientAddress(t *testing.T) {
	t.Parallel()

	t.Run("trusted", func(t *testing.T) {
		t.Parallel()
		srv, proxyURL := startBehindNginx(t, "127.0.0.1")
		cases := []struct {
			name   string
			from   string // the client's own address (its TCP source)
			xff    string // the X-Forwarded-For the client sends to nginx
			wantIP string
		}{
			// The peer nginx appended is the client.
			{"client address", "127.0.0.5", "", "127.0.0.5"},
			// A second hop in front of nginx at 127.0.0.1 (trusted) named
			// its client: the right-most address not in the list.
			{"client named by a trusted hop", "127.0.0.1", "198.51.100.23", "198.51.100.23"},
			// An untrusted client writing X-Forwarded-For itself is not
			// believed: nginx appends its real address, which is the
			// right-most untrusted one.
			{"spoofed header", "127.0.0.6", "203.0.113.66", "127.0.0.6"},
			{"spoofed chain", "127.0.0.7", "203.0.113.1, 127.0.0.1", "127.0.0.7"},
		}
		for _, tc := range cases {
			login := "proxy-" + randomHex(4) + "@example.com"
			if st := failSignIn(t, proxyURL, tc.from, tc.xff, login); st != http.StatusUnauthorized {
				t.Fatalf("%s: a wrong password through nginx answered %d, want 401", tc.name, st)
			}
			if got := loginFailureIP(t, srv, login); got != tc.wantIP {
				t.Errorf("%s (from %s, X-Forwarded-For %q): audit log records %q, want %q", tc.name, tc.from, tc.xff, got, tc.wantIP)
			}
		}

		// The per-address sign-in limit counts each client, not the proxy:
		// once one client is refused, another one through the same proxy
		// still reaches the password check.
		first := "198.51.100.50"
		refused := false
		for i := 0; i < 130 && !refused; i++ {
			switch st := failSignIn(t, proxyURL, "127.0.0.1", first, fmt.Sprintf("flood-%d-%s@example.com", i, randomHex(3))); st {
			case http.StatusTooManyRequests:
				refused = true
			case http.StatusUnauthorized:
			default:
				t.Fatalf("attempt %d from %s answered %d", i+1, first, st)
			}
		}
		if !refused {
			t.Fatalf("130 sign-ins from %s within a couple of minutes were never refused (the per-address limit is 60 a minute)", first)
		}
		for _, other := range []string{"198.51.100.51", "2001:db8:5::1"} {
			if st := failSignIn(t, proxyURL, "127.0.0.1", other, "other-"+randomHex(4)+"@example.com"); st != http.StatusUnauthorized {
				t.Errorf("after %s was limited, a sign-in from %s through the same proxy answered %d, want 401", first, other, st)
			}
		}
	})

	t.Run("no trusted proxies", func(t *testing.T) {
		t.Parallel()
		srv, proxyURL := startBehindNginx(t, "")
		for _, c := range []struct{ from, xff string }{
			{"127.0.0.1", "198.51.100.23"},
			{"127.0.0.5", ""},
		} {
			login := "direct-" + randomHex(4) + "@example.com"
			if st := failSignIn(t, proxyURL, c.from, c.xff, login); st != http.StatusUnauthorized {
				t.Fatalf("a wrong password through nginx answered %d, want 401", st)
			}
			// X-Forwarded-For is ignored: the client is nginx itself.
			if got := loginFailureIP(t, srv, login); got != "127.0.0.1" {
				t.Errorf("from %s with X-Forwarded-For %q and no GATEHOUSE_TRUSTED_PROXIES: audit log records %q, want the proxy's 127.0.0.1", c.from, c.xff, got)
			}
		}
	})
}

// startBehindNginx starts Gatehouse with GATEHOUSE_TRUSTED_PROXIES=trusted
// (unset when empty) and its issuer at an nginx reverse proxy on a free
// port, and returns the server and the proxy's base URL.
func startBehindNginx(t *testing.T, trusted string) (*server, string) {
	t.Helper()
	nginx := nginxBinary(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	proxyURL := "http://localhost:" + strconv.Itoa(port)
	env := []string{"GATEHOUSE_ISSUER=" + proxyURL}
	if trusted != "" {
		env = append(env, "GATEHOUSE_TRUSTED_PROXIES="+trusted)
	}
	srv := startServer(t, serverOpts{Env: env})
	startNginx(t, nginx, port, srv.Port)
	return srv, proxyURL
}

// nginxBinary finds nginx; a missing one fails the test (make test-deps
// installs it).
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is missing: the reverse-proxy test needs it (make test-deps installs Debian's nginx)")
	return ""
}

// nginxConf is the proxy set-up the README documents, in a throw-away
// prefix: one process in the foreground, logs to stderr.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 128; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location / {
			proxy_pass http://127.0.0.1:%[3]d;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`

// startNginx runs nginx from 127.0.0.1:port to Gatehouse on upstream until
// the test ends, and waits until Gatehouse answers through it.
func startNginx(t *testing.T, nginx string, port, upstream int) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, port, upstream)), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-e", "stderr")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful stop
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			t.Logf("--- nginx log ---\n%s", logs.String())
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("nginx exited at start: %v\n%s", exitErr, logs.String())
		default:
		}
		resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx on port %d does not reach Gatehouse (last error %v)\n%s", port, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failSignIn opens /login through the proxy as a client connecting from
// the loopback address from (sending X-Forwarded-For xff when not empty),
// posts a wrong password for login with the form's CSRF token, and returns
// the answer's status.
func failSignIn(t *testing.T, proxyURL, from, xff, login string) int {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	ua := newUserAgent(t, &server{URL: proxyURL})
	local := &net.TCPAddr{IP: net.ParseIP(from)}
	ua.client.Transport = &xffTransport{
		xff: xff, userAgent: proxyTestUserAgent(login),
		base: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
				return d.DialContext(ctx, "tcp4", "127.0.0.1:"+u.Port())
			},
			DisableKeepAlives: true,
		},
	}
	page := ua.get(proxyURL + "/login")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /login through the proxy from %s: %d\n%.800s", from, page.Status, page.Body)
	}
	f := findForm(t, page.Body, "password")
	if f.Fields.Get("csrf_token") == "" {
		t.Fatal("the sign-in form has no csrf_token")
	}
	res := ua.submit(page, f, url.Values{"username": {login}, "password": {"wrong-" + randomHex(4)}})
	if res.Status == http.StatusForbidden {
		t.Fatalf("POST /login through the proxy answered 403 (CSRF?)\n%.800s", res.Body)
	}
	return res.Status
}

// xffTransport adds the client's own X-Forwarded-For and a User-Agent to
// every request.
type xffTransport struct {
	xff       string
	userAgent string
	base      http.RoundTripper
}

func (x *xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if x.xff != "" {
		r.Header.Set("X-Forwarded-For", x.xff)
	}
	if x.userAgent != "" {
		r.Header.Set("User-Agent", x.userAgent)
	}
	return x.base.RoundTrip(r)
}

// proxyTestUserAgent is the User-Agent failSignIn sends for login: audit
// events name an unknown identifier only by a keyed hash, so the test finds
// its event by the user agent the event records.
func proxyTestUserAgent(login string) string { return "gatehouse-e2e-proxy " + strings.ToLower(login) }

// loginFailureIP returns the address recorded in the login.failure audit
// event for login (asked directly, with the bootstrap admin's API key).
func loginFailureIP(t *testing.T, srv *server, login string) string {
	t.Helper()
	var events page[auditEventDTO]
	api(srv, srv.AdminKey(t)).get(t, "/audit-events?action=login.failure&page_size=200").expect(t, http.StatusOK).decode(t, &events)
	for _, e := range events.Items {
		if e.UserAgent == proxyTestUserAgent(login) {
			return e.IP
		}
	}
	t.Fatalf("no login.failure audit event for %s among %d events", login, len(events.Items))
	return ""
}

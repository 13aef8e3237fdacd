// Command codeflow is a load client for the full OpenID Connect
// authorization-code flow on loopback: GET /authorize (code, S256 PKCE,
// state, nonce) → the sign-in page → POST /login → redirects until the
// client's redirect URI (not fetched) → POST the token endpoint
// (client_secret_basic, code_verifier). The client must be first-party, so
// no consent page is shown.
//
//	go run ./scripts/codeflow -issuer http://localhost:8080 -client-id … \
//	    -client-secret … -redirect-uri http://127.0.0.1:9/cb \
//	    -user flow@example.com -password … -c 16 -duration 10s
//
// Each flow uses a fresh cookie jar (a fresh sign-in) unless -session is
// set: then one sign-in happens before the measurement and every flow
// re-uses that session, so /authorize skips the sign-in form.
//
// Sign-in protection allows 60 sign-in attempts a minute per source address;
// the HTTP 429 answers are counted apart as "throttled". With -sources N the
// workers connect from N loopback addresses (127.0.0.2 …), as N clients
// would.
//
// It prints one summary line (and a RESULT line for scripts). Every request
// goes to the issuer, which must be a loopback address; the run stops after
// -n flows or -duration, whichever comes first.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	issuer, clientID, clientSecret, redirectURI, user, password string
	n, c, sources                                               int
	duration, timeout                                           time.Duration
	session                                                     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.issuer, "issuer", "http://localhost:8080", "issuer URL (loopback only)")
	flag.StringVar(&cfg.clientID, "client-id", "", "client id (a first-party client)")
	flag.StringVar(&cfg.clientSecret, "client-secret", "", "client secret")
	flag.StringVar(&cfg.redirectURI, "redirect-uri", "http://127.0.0.1:9/cb", "registered redirect URI (never fetched)")
	flag.StringVar(&cfg.user, "user", "", "email or username")
	flag.StringVar(&cfg.password, "password", "", "password")
	flag.IntVar(&cfg.n, "n", 100000, "total flows at most")
	flag.IntVar(&cfg.c, "c", 16, "concurrent flows")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "time cap")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.BoolVar(&cfg.session, "session", false, "sign in once and re-use the session for every flow")
	flag.IntVar(&cfg.sources, "sources", 1, "number of loopback source addresses (127.0.0.2 …) the workers spread over; 1 = the default source")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "codeflow: "+err.Error())
		os.Exit(1)
	}
}

type endpoints struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
}

// errThrottled marks a flow refused by sign-in protection (HTTP 429).
var errThrottled = errors.New("throttled by the per-IP limit (HTTP 429)")

func run(cfg config) error {
	switch {
	case cfg.clientID == "" || cfg.user == "" || cfg.password == "":
		return errors.New("-client-id, -user and -password are required")
	case cfg.n < 1 || cfg.c < 1 || cfg.duration <= 0 || cfg.sources < 1 || cfg.sources > 250:
		return errors.New("-n, -c, -duration and -sources (1..250) must be positive")
	}
	iss, err := url.Parse(cfg.issuer)
	if err != nil || iss.Host == "" {
		return fmt.Errorf("-issuer %q is not a URL", cfg.issuer)
	}
	if err := requireLoopback(iss.Hostname()); err != nil {
		return err
	}
	ep, err := discover(cfg)
	if err != nil {
		return err
	}
	for _, u := range []string{ep.Authorization, ep.Token} {
		pu, err := url.Parse(u)
		if err != nil || pu.Host != iss.Host {
			return fmt.Errorf("endpoint %q is not on the issuer's host", u)
		}
	}

	var shared http.CookieJar
	if cfg.session {
		shared, _ = cookiejar.New(nil)
		w := newWorker(cfg, ep, iss, 0, shared)
		if _, err := w.flow(); err != nil {
			return fmt.Errorf("sign-in before the measurement: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		errs     = map[string]int{}
		throttle int
		wg       sync.WaitGroup
	)
	start := time.Now()
	for i := range cfg.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(cfg, ep, iss, i, shared)
			var mine []time.Duration
			for ctx.Err() == nil && issued.Add(1) <= int64(cfg.n) {
				d, err := w.flowCtx(ctx)
				if ctx.Err() != nil && err != nil {
					break // cut off by the time cap: neither a result nor an error
				}
				if err != nil {
					mu.Lock()
					if errors.Is(err, errThrottled) {
						throttle++
					} else {
						errs[err.Error()]++
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(lat)
	nerr := 0
	for msg, k := range errs {
		nerr += k
		fmt.Fprintf(os.Stderr, "codeflow: %d× %s\n", k, msg)
	}
	rate := float64(len(lat)) / elapsed.Seconds()
	p50, p99 := pct(lat, 50), pct(lat, 99)
	mode := "fresh sign-in per flow"
	if cfg.session {
		mode = "existing session"
	}
	fmt.Printf("codeflow (%s, -c %d, sources %d): %d flows in %s = %.1f flows/s, p50 %s, p99 %s, errors %d, throttled by the per-IP limit (429) %d\n",
		mode, cfg.c, cfg.sources, len(lat), elapsed.Round(time.Millisecond), rate, fmtDur(p50), fmtDur(p99), nerr, throttle)
	fmt.Printf("RESULT flows=%d rate=%.1f p50=%s p99=%s errors=%d throttled=%d\n",
		len(lat), rate, fmtDur(p50), fmtDur(p99), nerr, throttle)
	return nil
}

func requireLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("the issuer's host %q is not a loopback address", host)
}

func discover(cfg config) (endpoints, error) {
	var ep endpoints
	res, err := http.Get(strings.TrimSuffix(cfg.issuer, "/") + "/.well-known/openid-configuration")
	if err != nil {
		return ep, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return ep, fmt.Errorf("discovery: HTTP %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&ep); err != nil {
		return ep, fmt.Errorf("discovery: %w", err)
	}
	if ep.Authorization == "" || ep.Token == "" {
		return ep, errors.New("discovery: no authorization or token endpoint")
	}
	return ep, nil
}

// errClass shortens transport errors so that they group in the summary.
func errClass(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timeout")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

func randString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i-1, len(sorted)-1))]
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
}

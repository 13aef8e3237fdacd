package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker runs flows one at a time, each with a fresh cookie jar or, with
// -session, the shared jar that holds the session.
type worker struct {
	cfg    config
	ep     endpoints
	iss    *url.URL
	tr     *http.Transport
	shared http.CookieJar
}

var (
	transportsOnce sync.Once
	transports     []*http.Transport
	flowSeq        atomic.Uint64
)

// transport is shared by all workers; with -sources N there is one per
// loopback source address and consecutive flows rotate over them, as N
// clients behind distinct addresses would.
func transport(cfg config) *http.Transport {
	transportsOnce.Do(func() {
		for i := range cfg.sources {
			d := &net.Dialer{Timeout: cfg.timeout}
			if cfg.sources > 1 {
				d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
			}
			transports = append(transports, &http.Transport{DialContext: d.DialContext,
				MaxIdleConnsPerHost: cfg.c + 4, IdleConnTimeout: 30 * time.Second})
		}
	})
	return transports[flowSeq.Add(1)%uint64(len(transports))]
}

func newWorker(cfg config, ep endpoints, iss *url.URL, _ int, shared http.CookieJar) *worker {
	return &worker{cfg: cfg, ep: ep, iss: iss, shared: shared}
}

func (w *worker) flow() (time.Duration, error) { return w.flowCtx(context.Background()) }

// client builds an http.Client that follows redirects within the issuer and
// stops at the redirect URI (or anywhere else) without fetching it.
func (w *worker) client(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport: w.tr,
		Jar:       jar,
		Timeout:   w.cfg.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("more than 10 redirects")
			}
			if req.URL.Host != w.iss.Host || req.URL.Scheme != w.iss.Scheme {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

var (
	reForm   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	reHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// flowCtx runs one complete flow and returns its duration.
func (w *worker) flowCtx(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	jar := w.shared
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	w.tr = transport(w.cfg)
	hc := w.client(jar)
	verifier := randString(32)
	sum := sha256.Sum256([]byte(verifier))
	state, nonce := randString(16), randString(16)
	q := url.Values{
		"response_type": {"code"}, "client_id": {w.cfg.clientID}, "redirect_uri": {w.cfg.redirectURI},
		"scope": {"openid profile email"}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.ep.Authorization+"?"+q.Encode(), nil)
	res, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("authorize: %w", errClass(err))
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()

	if res.StatusCode == http.StatusOK { // the sign-in page
		m := reForm.FindSubmatch(body)
		if m == nil {
			return 0, errors.New("sign-in page: no form")
		}
		form := url.Values{}
		for _, h := range reHidden.FindAllSubmatch(m[2], -1) {
			form.Set(string(h[1]), htmlUnescape(string(h[2])))
		}
		if form.Get("csrf_token") == "" {
			return 0, errors.New("sign-in page: no csrf_token")
		}
		form.Set("username", w.cfg.user)
		form.Set("password", w.cfg.password)
		action, err := res.Request.URL.Parse(htmlUnescape(string(m[1])))
		if err != nil {
			return 0, fmt.Errorf("sign-in page: form action: %w", err)
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err = hc.Do(req)
		if err != nil {
			return 0, fmt.Errorf("sign in: %w", errClass(err))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			return 0, errThrottled
		}
	}
	if res.StatusCode < 300 || res.StatusCode > 399 {
		return 0, fmt.Errorf("expected a redirect to the client, got HTTP %d at %s", res.StatusCode, res.Request.URL.Path)
	}
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), w.cfg.redirectURI) {
		return 0, fmt.Errorf("redirect outside the issuer that is not the redirect URI")
	}
	cb := loc.Query()
	if e := cb.Get("error"); e != "" {
		return 0, fmt.Errorf("authorization error %s", e)
	}
	if cb.Get("state") != state || cb.Get("code") == "" {
		return 0, errors.New("callback without code or with a wrong state")
	}

	tok := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {w.cfg.redirectURI}, "code_verifier": {verifier}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, w.ep.Token, strings.NewReader(tok.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.cfg.clientID), url.QueryEscape(w.cfg.clientSecret))
	res, err = hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("token: %w", errClass(err))
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
	}
	derr := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&tr)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || derr != nil || tr.AccessToken == "" || tr.IDToken == "" {
		return 0, fmt.Errorf("token: HTTP %d %s", res.StatusCode, tr.Error)
	}
	return time.Since(start), nil
}

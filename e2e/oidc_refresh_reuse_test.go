package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOIDCRefreshReuseInterval: a backend-for-frontend refreshing from
// several parallel requests presents the same refresh token several times.
// Within GATEHOUSE_REFRESH_REUSE_INTERVAL (default 5s) of its rotation each
// of those redemptions succeeds and every token they yield works (CONTRACT);
// after the interval, or with the interval 0, reuse revokes the grant.
func TestOIDCRefreshReuseInterval(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		t.Parallel()
		parallelRedemptions(t, newRefreshEnv(t, serverOpts{DB: db}))
	})
	t.Run("after the interval reuse revokes the grant", func(t *testing.T) {
		t.Parallel()
		env := newRefreshEnv(t, serverOpts{Env: []string{"GATEHOUSE_REFRESH_REUSE_INTERVAL=1s"}})
		r1 := env.signIn(t)
		var t2 tokenResponse
		refresh(t, env.tokenURL, env.client, r1).expect(t, http.StatusOK).decode(t, &t2)
		time.Sleep(1500 * time.Millisecond)
		expectOAuthError(t, refresh(t, env.tokenURL, env.client, r1), http.StatusBadRequest, "invalid_grant")
		expectOAuthError(t, refresh(t, env.tokenURL, env.client, t2.RefreshToken), http.StatusBadRequest, "invalid_grant")
		if isActive(introspect(t, env.introURL, env.client, t2.AccessToken)) {
			t.Errorf("reuse after the interval left the grant's access token active")
		}
	})
	t.Run("interval 0 turns it off", func(t *testing.T) {
		t.Parallel()
		env := newRefreshEnv(t, serverOpts{Env: []string{"GATEHOUSE_REFRESH_REUSE_INTERVAL=0"}})
		r1 := env.signIn(t)
		var t2 tokenResponse
		refresh(t, env.tokenURL, env.client, r1).expect(t, http.StatusOK).decode(t, &t2)
		expectOAuthError(t, refresh(t, env.tokenURL, env.client, r1), http.StatusBadRequest, "invalid_grant")
		expectOAuthError(t, refresh(t, env.tokenURL, env.client, t2.RefreshToken), http.StatusBadRequest, "invalid_grant")
	})
}

// parallelRedemptions: n parallel redemptions of one refresh token within the
// default interval all succeed, get the one successor, and every access
// token works; the successor then rotates normally.
func parallelRedemptions(t *testing.T, env *refreshEnv) {
	r1 := env.signIn(t)

	const n = 5
	answers := parallelRefresh(env.tokenURL, env.client, r1, n)
	var access []string
	successors := map[string]bool{}
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("redemption %d: %v", i, a.err)
		}
		if a.status != http.StatusOK {
			t.Fatalf("redemption %d of %d parallel ones answered %d %s; want 200 within the reuse interval (CONTRACT)", i, n, a.status, a.body)
		}
		access = append(access, a.tok.AccessToken)
		successors[a.tok.RefreshToken] = true
	}
	if len(successors) != 1 {
		t.Errorf("parallel redemptions of one refresh token got %d different successors; want the one successor handed out again (no fork of the grant)", len(successors))
	}
	for i, at := range access {
		if !isActive(introspect(t, env.introURL, env.client, at)) {
			t.Errorf("access token of redemption %d is not active; every token a concurrent redemption yields must work (CONTRACT)", i)
		}
	}
	// The successor redeems normally, and the grant is still alive.
	var next tokenResponse
	for s := range successors {
		refresh(t, env.tokenURL, env.client, s).expect(t, http.StatusOK).decode(t, &next)
	}
	for i, at := range append(access, next.AccessToken) {
		if !isActive(introspect(t, env.introURL, env.client, at)) {
			t.Errorf("access token %d is not active after the successor's own rotation", i)
		}
	}
	// The successor has been used: r1 is no longer the just-rotated
	// token, so presenting it now is reuse even within the interval.
	expectOAuthError(t, refresh(t, env.tokenURL, env.client, r1), http.StatusBadRequest, "invalid_grant")
	if isActive(introspect(t, env.introURL, env.client, next.AccessToken)) {
		t.Errorf("a stale refresh token presented after its successor was used did not revoke the grant")
	}
}

// refreshEnv is a server, a first-party client and a user, ready for the
// refresh grant.
type refreshEnv struct {
	srv                *server
	client             oidcClient
	p                  *oidc.Provider
	tokenURL, introURL string
	email, password    string
}

func newRefreshEnv(t *testing.T, opts serverOpts) *refreshEnv {
	t.Helper()
	srv := startServer(t, opts)
	cb := newCallbackServer(t)
	e := &refreshEnv{srv: srv, email: "bff@example.com", password: "pw-" + randomHex(8)}
	e.client = createOIDCClient(t, srv, "--name", "bff", "--redirect-uri", cb.URL+"/callback", "--first-party")
	createUser(t, srv, e.email, e.password)
	e.p = newProvider(t, srv)
	e.tokenURL, e.introURL, _ = endpoints(t, e.p)
	return e
}

// signIn returns a fresh refresh token of a new grant.
func (e *refreshEnv) signIn(t *testing.T) string {
	t.Helper()
	tok := signInForTokens(t, e.srv, e.p, e.client, e.email, e.password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	return tok.RefreshToken
}

type refreshAnswer struct {
	status int
	body   string
	tok    tokenResponse
	err    error
}

// parallelRefresh redeems rt n times at once (released together), as a
// backend-for-frontend's parallel requests do when its session expires.
func parallelRefresh(tokenURL string, c oidcClient, rt string, n int) []refreshAnswer {
	out := make([]refreshAnswer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
			if err != nil {
				out[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
			resp, err := httpClient.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			out[i].status, out[i].body = resp.StatusCode, string(b)
			if resp.StatusCode == http.StatusOK {
				if err := json.Unmarshal(b, &out[i].tok); err != nil {
					out[i].err = fmt.Errorf("decode %s: %w", b, err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOIDCSignInLockout drives /login with plain form posts (csrf_token
// from the form, its cookie kept): ten failed sign-ins for one account
// lock its password sign-in, so the eleventh attempt answers 429 with a
// page saying when to try again even with the right password. An unknown
// account answers exactly the same way (CONTRACT: Sign-in protection:
// nothing says whether the account exists). Another account is not locked.
func TestOIDCSignInLockout(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "hank@example.com", password)
	createUser(t, srv, "ivy@example.com", password)
	p := newProvider(t, srv)
	cfg := oauthConfig(p, client, oidc.ScopeOpenID)

	// attempts signs in 11 times as login (10 wrong passwords, then the
	// given last one) and returns the statuses and the last page.
	attempts := func(login, last string) ([]int, *uaResponse) {
		t.Helper()
		ua := newUserAgent(t, srv)
		page := ua.get(newAuthRequest(cfg).URL)
		if page.Status != http.StatusOK || page.Final.Path != "/login" {
			t.Fatalf("authorization request ended at %s (%d), want the /login form", page.Final, page.Status)
		}
		var statuses []int
		var res *uaResponse
		for i := 0; i < 11; i++ {
			pw := "wrong-" + randomHex(4)
			if i == 10 {
				pw = last
			}
			f := findForm(t, page.Body, "password")
			if f.Fields.Get("csrf_token") == "" {
				t.Fatalf("the sign-in form has no csrf_token hidden input (CONTRACT: every form)")
			}
			res = ua.submit(page, f, url.Values{"username": {login}, "password": {pw}})
			statuses = append(statuses, res.Status)
			if res.Status >= 300 && res.Status < 400 {
				t.Fatalf("attempt %d for %s redirected to %s", i+1, login, res.Header.Get("Location"))
			}
			if i < 10 && res.Status == http.StatusTooManyRequests {
				t.Fatalf("attempt %d for %s already answered 429, want the lock after ten failures", i+1, login)
			}
			if i < 10 && res.Status == http.StatusOK && strings.Contains(string(res.Body), `name="password"`) {
				page = res // the form again, with the error
			} else if i < 10 {
				page = ua.get(page.Final.String())
			}
		}
		return statuses, res
	}

	known, last := attempts("hank@example.com", password)
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("the 11th sign-in of hank (right password after 10 wrong) answered %d, want 429 (CONTRACT)\n%.800s", last.Status, last.Body)
	}
	if !strings.Contains(strings.ToLower(visibleText(last.Body)), "try again") {
		t.Errorf("the 429 page does not say when to try again:\n%.800s", visibleText(last.Body))
	}
	if ct := last.Header.Get("Content-Type"); !strings.Contains(ct, "text/html") {
		t.Errorf("the 429 answer has Content-Type %q, want a page (text/html)", ct)
	}
	cb.noHit(t)

	unknown, lastUnknown := attempts("nobody@example.com", "whatever-"+randomHex(4))
	for i := range known {
		if known[i] != unknown[i] {
			t.Errorf("attempt %d answered %d for an existing account and %d for an unknown one (CONTRACT: nothing says whether the account exists)", i+1, known[i], unknown[i])
		}
	}
	if lastUnknown.Status != http.StatusTooManyRequests || !strings.Contains(strings.ToLower(visibleText(lastUnknown.Body)), "try again") {
		t.Errorf("the unknown account's 11th attempt: %d\n%.800s", lastUnknown.Status, visibleText(lastUnknown.Body))
	}

	// Ivy is not locked by Hank's failures.
	ar := newAuthRequest(cfg)
	codeFrom(t, newUserAgent(t, srv).signIn(ar.URL, "ivy@example.com", password).Query(), ar.State)
}

// visibleText strips tags from an HTML page (roughly what a user reads).
func visibleText(body []byte) string {
	s := string(body)
	for _, tag := range []string{"script", "style", "head"} {
		for {
			i := strings.Index(strings.ToLower(s), "<"+tag)
			if i < 0 {
				break
			}
			j := strings.Index(strings.ToLower(s[i:]), "</"+tag+">")
			if j < 0 {
				break
			}
			s = s[:i] + s[i+j+len(tag)+3:]
		}
	}
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

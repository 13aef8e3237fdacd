package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSignInLockoutPerAccount: the account lock counts failures against
// the account, whichever identifier names it (CONTRACT "Sign-in
// protection": "ten failed sign-ins in a row for one account (whichever
// identifier, email or username, names it)"). Five wrong passwords by
// email and five by username lock the account: the right password then
// answers 429 by either identifier.
func TestSignInLockoutPerAccount(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	password := "pw-" + randomHex(8)
	api(srv, srv.AdminKey(t)).do(t, http.MethodPost, "/users", map[string]any{
		"email": "kate@example.com", "username": "kate", "name": "Kate", "password": password,
	}).expect(t, http.StatusCreated, http.StatusOK)

	ua := newUserAgent(t, srv)
	for i := 0; i < 10; i++ {
		login := "kate@example.com"
		if i%2 == 1 {
			login = "kate"
		}
		if st := formSignIn(t, ua, srv, login, "wrong-"+randomHex(4)); st != http.StatusUnauthorized {
			t.Fatalf("failure %d (%s) answered %d, want 401", i+1, login, st)
		}
	}
	for _, login := range []string{"kate", "kate@example.com"} {
		if st := formSignIn(t, ua, srv, login, password); st != http.StatusTooManyRequests {
			t.Fatalf("after five failures by email and five by username, the right password by %q answered %d, want 429 (one account, one count)", login, st)
		}
	}
}

// formSignIn opens /login in ua, posts the form with login and password and
// returns the answer's status (redirects are not followed past Gatehouse).
func formSignIn(t *testing.T, ua *userAgent, srv *server, login, password string) int {
	t.Helper()
	page := ua.get(srv.URL + "/login")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /login: %d", page.Status)
	}
	res := ua.submit(page, findForm(t, page.Body, "password"), url.Values{"username": {login}, "password": {password}})
	if res.Status == http.StatusOK && res.Final.Path != "/login" {
		return http.StatusSeeOther // signed in, followed to the account page
	}
	return res.Status
}

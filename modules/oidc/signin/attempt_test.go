package signin

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLoginLockoutCountsPerAccount: failures through the email and through
// the username count against the same account (CONTRACT "Sign-in
// protection": whichever identifier names it), so five of each lock it.
// Identifiers that name nobody keep counters of their own.
func TestLoginLockoutCountsPerAccount(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	for i, login := range []string{"alice@example.com", "alice", "ALICE@example.com", "Alice", "alice@example.com",
		"alice", "alice@example.com", " alice ", "alice@example.com", "alice"} {
		if pg := b.submit("/login", "/login", url.Values{"username": {login}, "password": {"wrong"}}); pg.status != http.StatusUnauthorized {
			t.Fatalf("failure %d (%q): status %d", i+1, login, pg.status)
		}
	}
	pg := b.submit("/login", "/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
	if pg.status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures by email and 5 by username, the right password answered %d, want 429 (the account is locked)", pg.status)
	}
	pg = b.submit("/login", "/login", url.Values{"username": {"alice@example.com"}, "password": {alicePassword}})
	if pg.status != http.StatusTooManyRequests {
		t.Fatalf("the locked account signed in by email: %d, want 429", pg.status)
	}

	// Unknown identifiers: each counts on its own, normalized.
	u := e.browser()
	for i := 0; i < 9; i++ {
		login := "nobody@example.com"
		if i%2 == 1 {
			login = "nobody"
		}
		if pg := u.submit("/login", "/login", url.Values{"username": {login}, "password": {"wrong"}}); pg.status != http.StatusUnauthorized {
			t.Fatalf("unknown failure %d: status %d", i+1, pg.status)
		}
	}
	if pg := u.submit("/login", "/login", url.Values{"username": {"NOBODY@example.com"}, "password": {"wrong"}}); pg.status != http.StatusUnauthorized {
		t.Fatalf("the 6th failure of nobody@example.com answered %d, want 401 (not locked yet)", pg.status)
	}
}

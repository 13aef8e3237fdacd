package signin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// TestInvitePasskey: the invitation page offers "Add passkey" beside the
// password form; the ceremony its token authorizes stores the passkey, uses
// the link up and verifies the email; /login then says so, and the passkey
// alone signs the user in. The used link is refused afterwards.
func TestInvitePasskey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newInviteEnv(t, db)
		u, token := e.invite("dana@example.com")
		b := e.browser()
		pg, btn := b.linkPage(token)
		if pg.status != http.StatusOK || btn == nil {
			t.Fatalf("invitation page %d offers no “Add passkey”:\n%s", pg.status, pg.body)
		}
		fieldByLabel(t, pg.doc, "New password")
		if buttonNamed(pg.doc, "Set password") == nil {
			t.Fatal("the invitation page lost “Set password”")
		}
		if htmlAttr(btn, "data-begin") != pathInvitePasskeyBegin || htmlAttr(btn, "data-finish") != pathInvitePasskeyFinish {
			t.Fatalf("button endpoints %q %q", htmlAttr(btn, "data-begin"), htmlAttr(btn, "data-finish"))
		}
		// Without script (or WebAuthn) the offer stays hidden: the password form is what works.
		if offer := htmlFindAll(pg.doc, func(n *html.Node) bool { return hasAttr(n, "data-passkey-offer") }); len(offer) != 1 || !hasAttr(offer[0], "hidden") {
			t.Errorf("the passkey offer is not one section hidden until the script shows it")
		}
		csrf := csrfOf(t, pg)
		res, cer := b.begin(pathInvitePasskeyBegin, csrf, token)
		if res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("begin: %d %v", res.status, res.header)
		}
		d := newDevice(t, u.ID)
		fin := b.post(pathInvitePasskeyFinish, url.Values{"csrf_token": {csrf}, "token": {token}, "handle": {cer.Handle},
			"credential": {d.attest(t, inviteRP, cer)}})
		var out map[string]string
		if err := json.Unmarshal([]byte(fin.body), &out); fin.status != http.StatusOK || err != nil || out["redirect"] != "/login?notice=passkey-added" {
			t.Fatalf("finish: %d %s", fin.status, fin.body)
		}
		if n := e.passkeyCount(u.ID); n != 1 {
			t.Fatalf("%d passkeys after the invitation, want 1", n)
		}
		if got := e.user(u.ID); !got.EmailVerified {
			t.Error("the email is not verified after the invitation was used")
		}
		if e.auditCount("user.invite.accept") != 1 || e.auditCount("passkey.register") != 1 {
			t.Errorf("audit: accept %d, register %d", e.auditCount("user.invite.accept"), e.auditCount("passkey.register"))
		}

		login := b.get(out["redirect"])
		if !strings.Contains(htmlText(login.doc), flashPasskeyAdded) || buttonNamed(login.doc, "Use passkey") == nil {
			t.Fatalf("/login after the passkey:\n%s", login.body)
		}
		lcsrf := csrfOf(t, login)
		lres, lcer := b.begin(pathPasskeyBegin, lcsrf, "")
		if lres.status != http.StatusOK {
			t.Fatalf("login begin: %d %s", lres.status, lres.body)
		}
		signed := b.post(pathPasskeyFinish, url.Values{"csrf_token": {lcsrf}, "handle": {lcer.Handle}, "credential": {d.assert(t, lcer)}})
		if signed.status != http.StatusOK || sessionCookieOf(signed) == nil || e.sessionCount(u.ID) != 1 {
			t.Fatalf("sign-in with the new passkey: %d %s", signed.status, signed.body)
		}

		if again, _ := e.browser().linkPage(token); again.status != http.StatusBadRequest || !strings.Contains(again.body, "already used") {
			t.Errorf("the used link: %d\n%s", again.status, again.body)
		}
		if res, _ := b.begin(pathInvitePasskeyBegin, csrf, token); res.status != http.StatusBadRequest {
			t.Errorf("begin with the used link: %d %s", res.status, res.body)
		}
	})
}

// TestInvitePasskeyRefusals: a bad, superseded or expired token and a reset
// link get a readable problem from begin and finish and no passkey; a
// reset link's page offers none; a begin without the CSRF token is refused.
func TestInvitePasskeyRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newInviteEnv(t, db)
		u, first := e.invite("erin@example.com")
		b := e.browser()
		pg, _ := b.linkPage(first)
		csrf := csrfOf(t, pg)
		problem := func(what string, res testPage, status int) {
			t.Helper()
			var p struct{ Detail string }
			if err := json.Unmarshal([]byte(res.body), &p); res.status != status ||
				!strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") || err != nil || p.Detail == "" {
				t.Errorf("%s: %d %s %s, want %d problem+json with a detail", what, res.status, res.header.Get("Content-Type"), res.body, status)
			}
		}
		if res := b.post(pathInvitePasskeyBegin, url.Values{"token": {first}}); res.status != http.StatusForbidden {
			t.Errorf("begin without CSRF: %d", res.status)
		}
		for name, tok := range map[string]string{"empty": "", "unknown": "bm90LWEtdG9rZW4", "long": strings.Repeat("a", 500)} {
			res, _ := b.begin(pathInvitePasskeyBegin, csrf, tok)
			problem("begin with an "+name+" token", res, http.StatusBadRequest)
			if !strings.Contains(res.body, "invalid, expired or already used") {
				t.Errorf("begin with an %s token says %s", name, res.body)
			}
		}
		// Re-sending the invitation supersedes the first link.
		_, cerFirst := b.begin(pathInvitePasskeyBegin, csrf, first)
		_, second := e.invite("erin@example.com")
		res, _ := b.begin(pathInvitePasskeyBegin, csrf, first)
		problem("begin with a superseded link", res, http.StatusBadRequest)
		fin := b.post(pathInvitePasskeyFinish, url.Values{"csrf_token": {csrf}, "token": {first}, "handle": {cerFirst.Handle},
			"credential": {newDevice(t, u.ID).attest(t, inviteRP, cerFirst)}})
		problem("finish with a superseded link", fin, http.StatusBadRequest)

		// A reset link is for a password: no passkey on its page or endpoints.
		if _, err := e.ids.SetPasswordWithLink(context.Background(), second, "erin's first passphrase"); err != nil {
			t.Fatal(err)
		}
		if err := e.ids.RequestPasswordReset(context.Background(), "erin@example.com"); err != nil {
			t.Fatal(err)
		}
		reset := e.lastToken("erin@example.com")
		rpg, rbtn := b.linkPage(reset)
		if rpg.status != http.StatusOK || rbtn != nil || strings.Contains(rpg.body, "passkeys.js") {
			t.Errorf("the reset page (%d) offers a passkey:\n%s", rpg.status, rpg.body)
		}
		res, _ = b.begin(pathInvitePasskeyBegin, csrf, reset)
		problem("begin with a reset link", res, http.StatusBadRequest)

		// An invitation that expired.
		v, expiring := e.invite("fay@example.com")
		_, cer := b.begin(pathInvitePasskeyBegin, csrf, expiring)
		e.clock.Advance(7*24*time.Hour + time.Second)
		fin = b.post(pathInvitePasskeyFinish, url.Values{"csrf_token": {csrf}, "token": {expiring}, "handle": {cer.Handle},
			"credential": {newDevice(t, v.ID).attest(t, inviteRP, cer)}})
		problem("finish with an expired link", fin, http.StatusBadRequest)
		if expired, _ := b.linkPage(expiring); expired.status != http.StatusBadRequest {
			t.Errorf("the expired link's page: %d", expired.status)
		}
		if e.passkeyCount(u.ID)+e.passkeyCount(v.ID) != 0 {
			t.Error("a refused invitation stored a passkey")
		}
	})
}

// TestInvitePasskeyNothingHalfWritten: an attestation that fails
// verification (garbage, or made for another origin) stores nothing, leaves
// the email unverified and the link usable; a later good one succeeds.
func TestInvitePasskeyNothingHalfWritten(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newInviteEnv(t, db)
		u, token := e.invite("gus@example.com")
		b := e.browser()
		pg, _ := b.linkPage(token)
		csrf := csrfOf(t, pg)
		phishing := virtualwebauthn.RelyingParty{ID: "id.example.com", Name: "Gatehouse", Origin: "https://evil.example.net"}
		for name, answer := range map[string]func(passkeys.Ceremony) string{
			"garbage":      func(passkeys.Ceremony) string { return `{"id":"x","response":{}}` },
			"other origin": func(c passkeys.Ceremony) string { return newDevice(t, u.ID).attest(t, phishing, c) },
		} {
			res, cer := b.begin(pathInvitePasskeyBegin, csrf, token)
			if res.status != http.StatusOK {
				t.Fatalf("begin before the %s attestation: %d %s", name, res.status, res.body)
			}
			fin := b.post(pathInvitePasskeyFinish, url.Values{"csrf_token": {csrf}, "token": {token}, "handle": {cer.Handle}, "credential": {answer(cer)}})
			if fin.status != http.StatusBadRequest || !strings.Contains(fin.body, "passkey") {
				t.Errorf("%s attestation: %d %s", name, fin.status, fin.body)
			}
		}
		if e.passkeyCount(u.ID) != 0 || e.user(u.ID).EmailVerified || e.auditCount("user.invite.accept") != 0 {
			t.Fatal("a refused attestation left a passkey, a verified email or an accepted invitation")
		}
		if again, btn := b.linkPage(token); again.status != http.StatusOK || btn == nil {
			t.Fatalf("the link after a refused attestation: %d", again.status)
		}
		_, cer := b.begin(pathInvitePasskeyBegin, csrf, token)
		fin := b.post(pathInvitePasskeyFinish, url.Values{"csrf_token": {csrf}, "token": {token}, "handle": {cer.Handle},
			"credential": {newDevice(t, u.ID).attest(t, inviteRP, cer)}})
		if fin.status != http.StatusOK || e.passkeyCount(u.ID) != 1 || !e.user(u.ID).EmailVerified {
			t.Fatalf("a good attestation after the refused ones: %d %s", fin.status, fin.body)
		}
	})
}

// TestInvitePasskeyOneLinkOneUse: two ceremonies begun with one link and
// finished at the same time: exactly one passkey is kept and the other
// finish is refused (the link's compare-and-swap runs in the passkey's
// transaction); "Set password" after that is refused too.
func TestInvitePasskeyOneLinkOneUse(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newInviteEnv(t, db)
		u, token := e.invite("hal@example.com")
		b := e.browser()
		pg, _ := b.linkPage(token)
		csrf := csrfOf(t, pg)
		forms := make([]url.Values, 2)
		for i := range forms {
			_, cer := b.begin(pathInvitePasskeyBegin, csrf, token)
			forms[i] = url.Values{"csrf_token": {csrf}, "token": {token}, "handle": {cer.Handle},
				"credential": {newDevice(t, u.ID).attest(t, inviteRP, cer)}}
		}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range forms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = b.post(pathInvitePasskeyFinish, forms[i]).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else if s != http.StatusBadRequest {
				t.Errorf("a finish answered %d", s)
			}
		}
		if ok != 1 || e.passkeyCount(u.ID) != 1 || e.auditCount("user.invite.accept") != 1 {
			t.Fatalf("statuses %v, %d passkeys, %d accepts; want one of each", statuses, e.passkeyCount(u.ID), e.auditCount("user.invite.accept"))
		}
		set := b.post("/password/reset", url.Values{"csrf_token": {csrf}, "token": {token}, "password": {"hal's passphrase now"}})
		if set.status != http.StatusBadRequest {
			t.Errorf("Set password with the used link: %d", set.status)
		}
	})
}

// TestInvitePasskeyBeginSourceLimit: begin counts against the source
// address's sign-in limit like /login: past it, 429 with Retry-After.
func TestInvitePasskeyBeginSourceLimit(t *testing.T) {
	e := newInviteEnv(t, testutil.NewSQLite(t), func(c *Config) {
		c.Throttle = throttlePolicy{SourceLimit: 2, SourceWindow: time.Minute}
	})
	_, token := e.invite("ida@example.com")
	b := e.browser()
	pg, _ := b.linkPage(token)
	csrf := csrfOf(t, pg)
	for i := range 2 {
		if res, _ := b.begin(pathInvitePasskeyBegin, csrf, token); res.status != http.StatusOK {
			t.Fatalf("begin %d: %d %s", i+1, res.status, res.body)
		}
	}
	res, _ := b.begin(pathInvitePasskeyBegin, csrf, token)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || e.auditCount("login.throttled") != 1 {
		t.Fatalf("begin past the limit: %d %v %s", res.status, res.header, res.body)
	}
}

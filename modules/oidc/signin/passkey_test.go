package signin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// fakePasskeys is a hand-written Passkeys: the "credential" a test posts
// names the outcome ("alice", "disabled", anything else is refused).
type fakePasskeys struct {
	mu      sync.Mutex
	has     map[string]bool
	list    map[string][]passkeys.Passkey
	reauths []string // users BeginReauth was called for
}

func newFakePasskeys() *fakePasskeys {
	return &fakePasskeys{has: map[string]bool{}, list: map[string][]passkeys.Passkey{}}
}

func (f *fakePasskeys) BeginLogin(context.Context) (passkeys.Ceremony, error) {
	return passkeys.Ceremony{Options: json.RawMessage(`{"publicKey":{}}`), Handle: "h-login"}, nil
}

func (f *fakePasskeys) BeginReauth(_ context.Context, userID string) (passkeys.Ceremony, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reauths = append(f.reauths, userID)
	if !f.has[userID] {
		return passkeys.Ceremony{}, passkeys.ErrNotFound
	}
	return passkeys.Ceremony{Options: json.RawMessage(`{"publicKey":{}}`), Handle: "h-reauth"}, nil
}

func (f *fakePasskeys) FinishLogin(_ context.Context, _ string, body []byte) (passkeys.LoginResult, error) {
	switch string(body) {
	case "alice":
		return passkeys.LoginResult{UserID: aliceID, UserVerified: true}, nil
	case "disabled":
		return passkeys.LoginResult{}, passkeys.ErrUserDisabled
	}
	return passkeys.LoginResult{}, passkeys.ErrVerification
}

func (f *fakePasskeys) HasPasskey(_ context.Context, userID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.has[userID], nil
}

func (f *fakePasskeys) List(_ context.Context, userID string) ([]passkeys.Passkey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list[userID], nil
}

// Registration through an invitation is tested with the real passkeys
// service (invite_passkey_test.go); this fake refuses it.
func (f *fakePasskeys) BeginRegistration(context.Context, string) (passkeys.Ceremony, error) {
	return passkeys.Ceremony{}, passkeys.ErrVerification
}

func (f *fakePasskeys) FinishRegistrationThen(context.Context, string, string, string, []byte, func(context.Context) error) (passkeys.Passkey, error) {
	return passkeys.Passkey{}, passkeys.ErrVerification
}

func newPasskeyEnv(t *testing.T) (*pagesTestEnv, *fakePasskeys) {
	pk := newFakePasskeys()
	pk.has[aliceID] = true
	return newPagesTestEnv(t, func(c *Config) { c.Passkeys = pk }), pk
}

// usePasskey runs what passkeys.js does after the authenticator answered:
// begin, then finish with credential, from the login page at path.
func (b *testBrowser) usePasskey(path, credential string) (testPage, map[string]string) {
	b.t.Helper()
	pg := b.get(path)
	btn := buttonNamed(pg.doc, "Use passkey")
	if btn == nil {
		b.t.Fatalf("GET %s: no button “Use passkey”\n%s", path, pg.body)
	}
	csrf := htmlFindAll(pg.doc, func(n *html.Node) bool { return n.Data == "meta" && htmlAttr(n, "name") == "csrf-token" })
	if len(csrf) != 1 {
		b.t.Fatalf("GET %s: no csrf-token meta", path)
	}
	token := htmlAttr(csrf[0], "content")
	if begin := b.post(htmlAttr(btn, "data-begin"), url.Values{"csrf_token": {token}}); begin.status != http.StatusOK ||
		!strings.Contains(begin.body, `"handle"`) {
		b.t.Fatalf("begin: %d %s", begin.status, begin.body)
	}
	fin := b.post(htmlAttr(btn, "data-finish"), url.Values{"csrf_token": {token}, "handle": {"h"}, "credential": {credential}})
	var out map[string]string
	_ = json.Unmarshal([]byte(fin.body), &out)
	return fin, out
}

func TestPasskeySignInAlone(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	b := e.browser()
	pg := b.get("/login")
	in := fieldByLabel(t, pg.doc, "Email or username")
	if htmlAttr(in, "autocomplete") != "username webauthn" {
		t.Fatalf("username autocomplete %q, want conditional mediation", htmlAttr(in, "autocomplete"))
	}
	fin, out := b.usePasskey("/login?return_to=/account", "alice")
	if fin.status != http.StatusOK || out["redirect"] != "/account" {
		t.Fatalf("finish: %d %s", fin.status, fin.body)
	}
	var amr string
	if err := e.db.Gorm.Table("oidc_sessions").Where("user_id = ?", aliceID).Select("amr").Scan(&amr).Error; err != nil || amr != "hwk user" {
		t.Fatalf("session amr %q (%v), want hwk user", amr, err)
	}
	if e.auditCount("login.success") != 1 {
		t.Fatal("the passkey sign-in was not audited")
	}
}

func TestPasskeyRefusals(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	b := e.browser()
	if fin, out := b.usePasskey("/login", "disabled"); fin.status != http.StatusForbidden || !strings.Contains(fin.body, msgDisabled) {
		t.Fatalf("disabled: %d %v", fin.status, out)
	}
	if fin, _ := b.usePasskey("/login", "forged"); fin.status != http.StatusBadRequest || sessionCookieOf(fin) != nil {
		t.Fatalf("forged: %d %s", fin.status, fin.body)
	}
	if e.sessionCount(aliceID) != 0 {
		t.Fatal("a refused passkey made a session")
	}
}

func TestPasskeyStepUpEachRequest(t *testing.T) {
	e, pk := newPasskeyEnv(t)
	b := e.browser()
	b.signIn("") // a live password session
	for i, id := range []string{"r1", "r2"} {
		e.clock.Advance(time.Minute)
		e.flow.add(flow.PendingRequest{ID: id, FirstParty: true, ACRValues: []string{"phr"}, CreatedAt: e.clock.Now()})
		pg := b.get("/login?authRequestID=" + id)
		if pg.status != http.StatusOK || !strings.Contains(pg.body, msgStepUpPasskey) {
			t.Fatalf("%s: the live session was used without a passkey: %d %s", id, pg.status, pg.location())
		}
		// A password does not pass for a passkey: back to the passkey prompt.
		if i == 1 {
			pw := b.submit("/login?authRequestID="+id, "/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
			if pw.location() != "/login?authRequestID="+id {
				t.Fatalf("password for phr: %d %q", pw.status, pw.location())
			}
		}
		fin, out := b.usePasskey("/login?authRequestID="+id, "alice")
		if fin.status != http.StatusOK || out["redirect"] != "/login?authRequestID="+id {
			t.Fatalf("%s finish: %d %s", id, fin.status, fin.body)
		}
		if pg := b.get(out["redirect"]); !strings.HasPrefix(pg.location(), "https://app.example/cb?code=") {
			t.Fatalf("%s: not completed: %d %q", id, pg.status, pg.location())
		}
		a, _ := e.flow.completion(id)
		if a.ACR != flow.ACRPhishingResistant || !slices.Contains(a.AMR, "hwk") || !slices.Contains(a.AMR, "user") || !slices.Contains(a.AMR, "pwd") {
			t.Fatalf("%s: amr %v acr %q, want pwd hwk user and phr", id, a.AMR, a.ACR)
		}
	}
	if len(pk.reauths) != 2 || pk.reauths[0] != aliceID {
		t.Fatalf("step-up ceremonies %v, want BeginReauth(alice) each time", pk.reauths)
	}
}

func TestPasskeyStepUpWithoutPasskey(t *testing.T) {
	e, pk := newPasskeyEnv(t)
	pk.has[aliceID] = false
	b := e.browser()
	b.signIn("")
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, ACRValues: []string{"phr"}, CreatedAt: e.clock.Now()})
	pg := b.get("/login?authRequestID=r1")
	if !strings.Contains(pg.body, "your account has no passkey") || e.flow.failure("r1") != "unmet_authentication_requirements" {
		t.Fatalf("%d %q\n%s", pg.status, e.flow.failure("r1"), pg.body)
	}
}

func TestPasskeyOfferedFirstForFreshSignIn(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	b := e.browser()
	b.signIn("")
	e.clock.Advance(time.Minute)
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, Prompt: []string{"login"}, CreatedAt: e.clock.Now()})
	pg := b.get("/login?authRequestID=r1")
	if !strings.Contains(pg.body, "use your passkey, or enter your password") ||
		strings.Index(pg.body, "Use passkey") > strings.Index(pg.body, `action="/login"`) {
		t.Fatalf("prompt=login for a user with a passkey should offer it first\n%s", pg.body)
	}
}

func TestAccountListsPasskeys(t *testing.T) {
	e, pk := newPasskeyEnv(t)
	used := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	pk.list[aliceID] = []passkeys.Passkey{
		{ID: "pk1", Name: "Laptop", CreatedAt: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC), LastUsedAt: &used, BackupState: true},
		{ID: "pk2", Name: "Key", CreatedAt: time.Date(2025, 2, 2, 3, 4, 0, 0, time.UTC)},
	}
	b := e.browser()
	b.signIn("")
	pg := b.get("/account")
	for _, want := range []string{"Laptop", "2025-01-02 03:04 UTC", "2025-03-04 05:06 UTC", "Synced", "never",
		`action="/account/passkeys/pk1/delete"`, `action="/account/passkeys/pk2/rename"`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Count(pg.body, "Synced") != 1 {
		t.Error("only the backed-up passkey is Synced")
	}
	if buttonNamed(pg.doc, "Add passkey") == nil || buttonNamed(pg.doc, "Remove passkey") == nil {
		t.Error("no “Add passkey” or “Remove passkey” button")
	}
}

// TestPasskeyBeginIsLimitedPerSource: every begun ceremony is a stored
// challenge, so one source may not begin them without bound; the limit is
// counted apart from sign-in attempts (a throttled begin leaves the
// password sign-in of the same address alone).
func TestPasskeyBeginIsLimitedPerSource(t *testing.T) {
	pk := newFakePasskeys()
	e := newPagesTestEnv(t, func(c *Config) {
		c.Passkeys = pk
		c.Throttle.SourceLimit = 3
	})
	b := e.browser()
	pg := b.get("/login")
	btn := buttonNamed(pg.doc, "Use passkey")
	csrf := htmlFindAll(pg.doc, func(n *html.Node) bool { return n.Data == "meta" && htmlAttr(n, "name") == "csrf-token" })
	if btn == nil || len(csrf) != 1 {
		t.Fatalf("no passkey button or csrf meta\n%s", pg.body)
	}
	form := url.Values{"csrf_token": {htmlAttr(csrf[0], "content")}}
	for i := range 3 {
		if r := b.post(htmlAttr(btn, "data-begin"), form); r.status != http.StatusOK {
			t.Fatalf("begin %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := b.post(htmlAttr(btn, "data-begin"), form)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" ||
		!strings.Contains(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("4th begin: %d %q %s, want 429 problem with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	if e.auditCount("login.throttled") != 1 {
		t.Fatal("the throttled begin was not audited")
	}
	if pg := b.signIn("?return_to=/account"); pg.status != http.StatusSeeOther {
		t.Fatalf("password sign-in after throttled begins: %d, want 303\n%s", pg.status, pg.body)
	}
}

package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

func TestLogout(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	confirm := b.get("/logout")
	if confirm.status != http.StatusOK || buttonNamed(confirm.doc, "Sign out") == nil {
		t.Fatalf("confirmation: %d\n%s", confirm.status, confirm.body)
	}
	if e.sessionCount(aliceID) != 1 {
		t.Fatal("GET /logout ended the session")
	}
	// Without the CSRF token nothing happens.
	if pg := b.post("/logout", url.Values{}); pg.status != http.StatusForbidden || e.sessionCount(aliceID) != 1 {
		t.Fatalf("logout without CSRF token: %d", pg.status)
	}
	pg := b.submit("/logout", "/logout", nil)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "You are signed out") {
		t.Fatalf("logout: %d\n%s", pg.status, pg.body)
	}
	ck := sessionCookieOf(pg)
	if ck == nil || ck.Value != "" || ck.MaxAge >= 0 {
		t.Fatalf("cookie not cleared: %+v", ck)
	}
	if e.sessionCount(aliceID) != 0 {
		t.Fatal("session row kept")
	}
	if e.auditCount("logout") != 1 {
		t.Fatal("no logout event")
	}
	if pg := b.get("/account"); pg.status != http.StatusSeeOther || !strings.HasPrefix(pg.location(), "/login") {
		t.Fatalf("account after logout: %d %q", pg.status, pg.location())
	}
}

func TestLogoutFromAccountPage(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	pg := b.submit("/account", "/logout", nil)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "You are signed out") || e.sessionCount(aliceID) != 0 {
		t.Fatalf("sign out from /account: %d", pg.status)
	}
}

func TestAccountEndsOtherSession(t *testing.T) {
	e := newPagesTestEnv(t)
	phone, laptop := e.browser(), e.browser()
	phone.signIn("")
	laptopCookie := sessionCookieOf(laptop.signIn(""))
	req, _ := http.NewRequest(http.MethodGet, "/account", nil)
	req.AddCookie(laptopCookie)
	current, err := e.pages.AuthenticateSession(req)
	if err != nil {
		t.Fatal(err)
	}
	var other string
	for _, s := range mustList(t, e, aliceID) {
		if s.ID != current.CredentialID {
			other = s.ID
		}
	}
	if other == "" {
		t.Fatal("the phone's session is not listed")
	}
	acct := laptop.get("/account")
	signOuts := htmlFindAll(acct.doc, func(n *html.Node) bool { return n.Data == "button" && htmlText(n) == "Sign out" })
	if !strings.Contains(acct.body, "This browser") || len(signOuts) != 2 || !strings.Contains(acct.body, `action="/account/sessions/end"`) {
		t.Fatalf("sessions list:\n%s", acct.body)
	}
	pg := laptop.submit("/account", "/account/sessions/end", url.Values{"session_id": {other}})
	if pg.status != http.StatusSeeOther || e.sessionCount(aliceID) != 1 {
		t.Fatalf("end other session: %d, %d left", pg.status, e.sessionCount(aliceID))
	}
	if pg := phone.get("/account"); pg.status != http.StatusSeeOther {
		t.Fatalf("phone still signed in: %d", pg.status)
	}
	if pg := laptop.get("/account"); pg.status != http.StatusOK {
		t.Fatalf("laptop signed out: %d", pg.status)
	}
	// Someone else's session id is not found.
	if pg := laptop.submit("/account", "/account/sessions/end", url.Values{"session_id": {"not-mine"}}); pg.status != http.StatusNotFound {
		t.Fatalf("unknown session: %d", pg.status)
	}
}

func mustList(t *testing.T, e *pagesTestEnv, userID string) []session {
	t.Helper()
	l, err := e.pages.sessions.listForUser(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEndSessionFromProvider(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	sid := mustList(t, e, aliceID)[0].ID
	var store flow.SessionEnder = e.pages
	if err := store.EndSession(context.Background(), sid); err != nil {
		t.Fatal(err)
	}
	if err := store.EndSession(context.Background(), sid); err != nil {
		t.Fatalf("ending an ended session: %v", err)
	}
	if pg := b.get("/account"); pg.status != http.StatusSeeOther {
		t.Fatalf("still signed in: %d", pg.status)
	}
}

func TestAuthenticateSession(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	ck := sessionCookieOf(b.signIn(""))
	req, _ := http.NewRequest(http.MethodGet, "/account", nil)
	if _, err := e.pages.AuthenticateSession(req); !errors.Is(err, httpserver.ErrUnauthenticated) {
		t.Fatalf("no cookie: %v", err)
	}
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"})
	if _, err := e.pages.AuthenticateSession(req); !errors.Is(err, httpserver.ErrUnauthenticated) {
		t.Fatalf("forged cookie: %v", err)
	}
	req, _ = http.NewRequest(http.MethodGet, "/account", nil)
	req.AddCookie(ck)
	p, err := e.pages.AuthenticateSession(req)
	if err != nil || p.ID != aliceID || p.Via != "session" || p.CredentialID == "" || !p.IsUser() {
		t.Fatalf("principal = %+v, %v", p, err)
	}
}

func TestAddAuthenticationStepUp(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	sid := mustList(t, e, aliceID)[0].ID
	if err := e.pages.addAuthentication(context.Background(), sid, flow.AMRHardware, flow.AMRUser); err != nil {
		t.Fatal(err)
	}
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true})
	b.get("/login?authRequestID=r1")
	a, ok := e.flow.completion("r1")
	if !ok || a.ACR != flow.ACRPhishingResistant || !slices.Equal(a.AMR, []string{"hwk", "pwd", "user"}) {
		t.Fatalf("after step-up: %+v", a)
	}
}

func TestIdentityListenerEndsSessions(t *testing.T) {
	e := newPagesTestEnv(t)
	ctx := context.Background()
	b := e.browser()
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "app"})
	b.signIn("?authRequestID=r1")
	b.submit("/consent?authRequestID=r1", "/consent", url.Values{"decision": {"allow"}})

	// A change that leaves the user active keeps the session.
	if err := e.pages.UserChanged(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if e.sessionCount(aliceID) != 1 {
		t.Fatal("session ended for an active user")
	}
	e.users.SetStatus(aliceID, identity.StatusDisabled)
	if err := e.pages.UserChanged(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if e.sessionCount(aliceID) != 0 {
		t.Fatal("disabled user keeps a session")
	}
	if pg := b.get("/account"); pg.status != http.StatusSeeOther {
		t.Fatalf("disabled user still signed in: %d", pg.status)
	}

	// Deletion removes sessions and remembered consent.
	e.users.SetStatus(aliceID, identity.StatusActive)
	b.signIn("")
	e.users.Remove(aliceID)
	if err := e.pages.UserDeleted(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if e.sessionCount(aliceID) != 0 {
		t.Fatal("deleted user keeps a session")
	}
	if ok, _ := e.pages.consents.covers(ctx, aliceID, "app", []string{"openid"}); ok {
		t.Fatal("deleted user's consent kept")
	}
}

// TestLogoutShowsNoReturnURI: /logout is reached without a valid
// id_token_hint, so a post_logout_redirect_uri in its query or form is
// validated by nobody and is never shown, as a link or otherwise.
func TestLogoutShowsNoReturnURI(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	bye := url.QueryEscape("https://app.example/bye")
	if pg := b.get("/logout?post_logout_redirect_uri=" + bye); strings.Contains(pg.body, "app.example") {
		t.Fatalf("the Sign out page shows the URI:\n%s", pg.body)
	}
	pg := b.submit("/logout?post_logout_redirect_uri="+bye, "/logout", url.Values{"post_logout_redirect_uri": {"https://app.example/bye"}})
	if pg.status != http.StatusOK || e.sessionCount(aliceID) != 0 {
		t.Fatalf("logout: %d", pg.status)
	}
	if strings.Contains(pg.body, "app.example") {
		t.Fatalf("the signed-out page shows the URI:\n%s", pg.body)
	}
	for _, bad := range []string{"https://evil.example/", "javascript:alert(1)", "//evil.example"} {
		pg := b.get("/logout?post_logout_redirect_uri=" + url.QueryEscape(bad))
		if strings.Contains(pg.body, "evil.example") || strings.Contains(pg.body, "javascript:") {
			t.Fatalf("%q shown:\n%s", bad, pg.body)
		}
	}
}

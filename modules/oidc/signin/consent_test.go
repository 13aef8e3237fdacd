package signin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

func TestConsentAllowIsRemembered(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "app", ClientName: "Photo App", Scopes: []string{"openid", "email", "profile"}})
	b := e.browser()
	pg := b.signIn("?authRequestID=r1")
	if pg.location() != "/consent?authRequestID=r1" {
		t.Fatalf("after sign-in: %q, want the consent page", pg.location())
	}
	c := b.get("/consent?authRequestID=r1")
	if c.status != http.StatusOK || !strings.Contains(c.body, "Photo App") || !strings.Contains(c.body, "Your email address") {
		t.Fatalf("consent page: %d\n%s", c.status, c.body)
	}
	if buttonNamed(c.doc, "Allow") == nil || buttonNamed(c.doc, "Deny") == nil {
		t.Fatal("no Allow/Deny buttons")
	}
	pg = b.submit("/consent?authRequestID=r1", "/consent", url.Values{"decision": {"allow"}})
	if pg.status != http.StatusSeeOther || pg.location() != "https://app.example/cb?code=code-r1" {
		t.Fatalf("allow: %d %q", pg.status, pg.location())
	}
	if a, ok := e.flow.completion("r1"); !ok || a.UserID != aliceID {
		t.Fatalf("r1 not completed for alice: %+v", a)
	}
	if e.auditCount("consent.grant") != 1 {
		t.Fatal("no consent.grant event")
	}

	// A subset needs no new consent, even with prompt=none.
	e.flow.add(flow.PendingRequest{ID: "r2", ClientID: "app", Scopes: []string{"openid", "email"}, Prompt: []string{"none"}})
	if pg := b.get("/login?authRequestID=r2"); pg.location() != "https://app.example/cb?code=code-r2" {
		t.Fatalf("subset: %d %q", pg.status, pg.location())
	}
	// A new scope asks again; with prompt=none that is consent_required.
	e.flow.add(flow.PendingRequest{ID: "r3", ClientID: "app", Scopes: []string{"openid", "roles"}})
	if pg := b.get("/login?authRequestID=r3"); pg.location() != "/consent?authRequestID=r3" {
		t.Fatalf("new scope: %d %q", pg.status, pg.location())
	}
	e.flow.add(flow.PendingRequest{ID: "r4", ClientID: "app", Scopes: []string{"openid", "roles"}, Prompt: []string{"none"}})
	if pg := b.get("/login?authRequestID=r4"); pg.location() != "https://app.example/cb?error=consent_required" {
		t.Fatalf("prompt=none, new scope: %q", pg.location())
	}
	// prompt=consent always asks.
	e.flow.add(flow.PendingRequest{ID: "r5", ClientID: "app", Scopes: []string{"openid"}, Prompt: []string{"consent"}})
	if pg := b.get("/login?authRequestID=r5"); pg.location() != "/consent?authRequestID=r5" {
		t.Fatalf("prompt=consent: %q", pg.location())
	}
	// Another client asks for itself.
	e.flow.add(flow.PendingRequest{ID: "r6", ClientID: "other", Scopes: []string{"openid"}})
	if pg := b.get("/login?authRequestID=r6"); pg.location() != "/consent?authRequestID=r6" {
		t.Fatalf("other client: %q", pg.location())
	}
}

func TestConsentDeny(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "app", Scopes: []string{"openid", "email"}})
	b := e.browser()
	b.signIn("?authRequestID=r1")
	pg := b.submit("/consent?authRequestID=r1", "/consent", url.Values{"decision": {"deny"}})
	if pg.status != http.StatusSeeOther || pg.location() != "https://app.example/cb?error=access_denied" {
		t.Fatalf("deny: %d %q", pg.status, pg.location())
	}
	if e.flow.failure("r1") != "access_denied" {
		t.Fatalf("failure %q", e.flow.failure("r1"))
	}
	// Nothing was remembered.
	e.flow.add(flow.PendingRequest{ID: "r2", ClientID: "app", Scopes: []string{"openid"}})
	if pg := b.get("/login?authRequestID=r2"); pg.location() != "/consent?authRequestID=r2" {
		t.Fatalf("after deny: %q", pg.location())
	}
}

func TestConsentFirstPartySkips(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "console", FirstParty: true, Scopes: []string{"openid", "roles"}})
	pg := e.browser().signIn("?authRequestID=r1")
	if pg.location() != "https://app.example/cb?code=code-r1" {
		t.Fatalf("first party: %q", pg.location())
	}
}

func TestConsentGuards(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "app", Scopes: []string{"openid"}})
	b := e.browser()
	// Without a session, the consent page sends the browser to sign in.
	if pg := b.get("/consent?authRequestID=r1"); pg.status != http.StatusSeeOther || pg.location() != "/login?authRequestID=r1" {
		t.Fatalf("no session: %d %q", pg.status, pg.location())
	}
	b.signIn("?authRequestID=r1")
	// Without the CSRF token the decision is refused.
	if pg := b.post("/consent", url.Values{"authRequestID": {"r1"}, "decision": {"allow"}}); pg.status != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", pg.status)
	}
	if _, ok := e.flow.completion("r1"); ok {
		t.Fatal("completed without a CSRF token")
	}
	// A decision that is neither, and an unknown request, are readable 400s.
	if pg := b.submit("/consent?authRequestID=r1", "/consent", url.Values{"decision": {"maybe"}}); pg.status != http.StatusBadRequest {
		t.Fatalf("bad decision: %d", pg.status)
	}
	if pg := b.get("/consent?authRequestID=nope"); pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "expired") {
		t.Fatalf("unknown request: %d", pg.status)
	}
	if pg := b.get("/consent"); pg.status != http.StatusBadRequest {
		t.Fatalf("no request: %d", pg.status)
	}
}

func TestConsentCannotSkipFreshAuthentication(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	// The request began after the sign-in and asks for a new one: going
	// straight to /consent must not complete it.
	e.clock.Advance(time.Minute)
	e.flow.add(flow.PendingRequest{ID: "r1", ClientID: "app", Prompt: []string{"login"}, CreatedAt: e.clock.Now()})
	if pg := b.get("/consent?authRequestID=r1"); pg.status != http.StatusSeeOther || pg.location() != "/login?authRequestID=r1" {
		t.Fatalf("consent before re-authentication: %d %q", pg.status, pg.location())
	}
	// After signing in again, consent is asked and allowed.
	e.clock.Advance(time.Second)
	if pg := b.signIn("?authRequestID=r1"); pg.location() != "/consent?authRequestID=r1" {
		t.Fatalf("after re-authentication: %q", pg.location())
	}
	e.clock.Advance(30 * time.Second)
	pg := b.submit("/consent?authRequestID=r1", "/consent", url.Values{"decision": {"allow"}})
	if pg.location() != "https://app.example/cb?code=code-r1" {
		t.Fatalf("allow: %d %q", pg.status, pg.location())
	}
}

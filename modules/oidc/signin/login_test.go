package signin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

func TestLoginFormHasLabelledFields(t *testing.T) {
	e := newPagesTestEnv(t)
	pg := e.browser().get("/login")
	if pg.status != http.StatusOK {
		t.Fatalf("status %d", pg.status)
	}
	if got := htmlAttr(fieldByLabel(t, pg.doc, "Email or username"), "name"); got != "username" {
		t.Errorf("Email or username field name = %q", got)
	}
	pw := fieldByLabel(t, pg.doc, "Password")
	if htmlAttr(pw, "name") != "password" || htmlAttr(pw, "type") != "password" {
		t.Errorf("Password field = name %q type %q", htmlAttr(pw, "name"), htmlAttr(pw, "type"))
	}
	if buttonNamed(pg.doc, "Sign in") == nil {
		t.Error("no button Sign in")
	}
	csrf := htmlFindAll(pg.doc, func(n *html.Node) bool { return n.Data == "input" && htmlAttr(n, "name") == "csrf_token" })
	if len(csrf) != 1 || htmlAttr(csrf[0], "value") == "" {
		t.Error("the form has no csrf_token")
	}
	if csp := pg.header.Get("Content-Security-Policy"); csp == "" || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if len(htmlFindAll(pg.doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "style" || htmlAttr(n, "style") != "" })) != 0 {
		t.Error("inline script or style on the login page")
	}
}

func TestLoginWithoutCSRFTokenIsForbidden(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.get("/login") // has the CSRF cookie, but the post lacks the token
	pg := b.post("/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
	if pg.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", pg.status)
	}
	if e.sessionCount(aliceID) != 0 {
		t.Fatal("a session was created without a CSRF token")
	}
}

func TestLoginWrongCredentialsAreGeneric(t *testing.T) {
	e := newPagesTestEnv(t)
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", "alice@example.com", "nope"},
		{"unknown account", "nobody@example.com", "nope"},
		{"username, wrong password", "alice", "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := e.browser().submit("/login", "/login", url.Values{"username": {tc.user}, "password": {tc.pass}})
			if pg.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", pg.status)
			}
			if !strings.Contains(pg.body, "Incorrect email/username or password.") {
				t.Fatalf("generic message missing:\n%s", pg.body)
			}
			if sessionCookieOf(pg) != nil {
				t.Fatal("session cookie set after a failure")
			}
			// The typed identifier is kept, the password is not.
			if got := htmlAttr(fieldByLabel(t, pg.doc, "Email or username"), "value"); got != tc.user {
				t.Errorf("username not kept: %q", got)
			}
			if strings.Contains(pg.body, tc.pass+"\"") {
				t.Error("password echoed")
			}
		})
	}
	if n := e.auditCount("login.failure"); n != 3 {
		t.Fatalf("login.failure events = %d, want 3", n)
	}
}

func TestLoginBadInputIsReadable(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	for _, form := range []url.Values{
		{"username": {""}, "password": {"x"}},
		{"username": {"alice"}, "password": {""}},
		{"username": {strings.Repeat("a", 400)}, "password": {"x"}},
	} {
		pg := b.submit("/login", "/login", form)
		if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, msgMissingFields) {
			t.Fatalf("status %d\n%s", pg.status, pg.body)
		}
	}
	if pg := b.get("/login?authRequestID=unknown"); pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "expired") {
		t.Fatalf("unknown request: status %d\n%s", pg.status, pg.body)
	}
}

func TestLoginDisabledUser(t *testing.T) {
	e := newPagesTestEnv(t)
	e.users.Add(identity.User{ID: "u-bob", Email: "bob@example.com", Status: identity.StatusDisabled}, "bobs password")
	b := e.browser()
	pg := b.submit("/login", "/login", url.Values{"username": {"bob@example.com"}, "password": {"wrong"}})
	if pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, msgBadCredentials) {
		t.Fatalf("wrong password on a disabled account: %d", pg.status)
	}
	pg = b.submit("/login", "/login", url.Values{"username": {"bob@example.com"}, "password": {"bobs password"}})
	if pg.status != http.StatusForbidden || !strings.Contains(pg.body, "This account is disabled") {
		t.Fatalf("right password on a disabled account: %d\n%s", pg.status, pg.body)
	}
	if sessionCookieOf(pg) != nil || e.sessionCount("u-bob") != 0 {
		t.Fatal("disabled user got a session")
	}
}

func TestLoginSuccessSetsSessionCookie(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	pg := b.signIn("")
	if pg.location() != "/account" {
		t.Fatalf("redirect to %q, want /account", pg.location())
	}
	ck := sessionCookieOf(pg)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("cookie flags: HttpOnly=%v SameSite=%v Path=%q Secure=%v", ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
	}
	if len(ck.Value) < 43 {
		t.Fatalf("cookie value too short: %q", ck.Value)
	}
	if e.auditCount("login.success") != 1 {
		t.Fatal("no login.success event")
	}
	acct := b.get("/account")
	if acct.status != http.StatusOK || !strings.Contains(acct.body, "Alice Liddell") || !strings.Contains(acct.body, "alice@example.com") {
		t.Fatalf("account: %d\n%s", acct.status, acct.body)
	}
	if buttonNamed(acct.doc, "Sign out") == nil {
		t.Fatal("no Sign out button on /account")
	}
	// Signed in, /login goes on to return_to.
	if pg := b.get("/login?return_to=/account/x"); pg.status != http.StatusSeeOther || pg.location() != "/account/x" {
		t.Fatalf("signed-in /login: %d %q", pg.status, pg.location())
	}
}

func TestLoginSecureCookieOnHTTPS(t *testing.T) {
	e := newPagesTestEnv(t, func(c *Config) { c.Issuer = "https://id.example.com" })
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	e.pages.setCookie(c, "value", e.clock.Now().Add(time.Hour))
	ck := rec.Result().Cookies()
	if len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode || ck[0].MaxAge != 3600 {
		t.Fatalf("cookie on https: %+v", ck)
	}
}

func TestLoginReturnTo(t *testing.T) {
	e := newPagesTestEnv(t)
	pg := e.browser().signIn("?return_to=" + url.QueryEscape("/admin/users?q=a"))
	if pg.location() != "/admin/users?q=a" {
		t.Fatalf("redirect %q", pg.location())
	}
	pg = e.browser().signIn("?return_to=" + url.QueryEscape("//evil.example/x"))
	if pg.location() != "/account" {
		t.Fatalf("open redirect to %q", pg.location())
	}
}

func TestSafeReturnTo(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/account",
		"/admin":               "/admin",
		"/account?tab=keys":    "/account?tab=keys",
		"//evil.example":       "/account",
		"/\\evil.example":      "/account",
		"https://evil.example": "/account",
		"admin":                "/account",
		"/x\r\nSet-Cookie: a":  "/account",
	} {
		if got := safeReturnTo(in); got != want {
			t.Errorf("safeReturnTo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAccountRequiresSession(t *testing.T) {
	e := newPagesTestEnv(t)
	pg := e.browser().get("/account")
	if pg.status != http.StatusSeeOther || pg.location() != "/login?return_to=%2Faccount" {
		t.Fatalf("status %d location %q", pg.status, pg.location())
	}
}

func TestLoginLockoutAfterTenFailures(t *testing.T) {
	for name, configure := range map[string]func(*testing.T, *Config){
		"database": func(*testing.T, *Config) {},
	} {
		t.Run(name, func(t *testing.T) {
			e := newPagesTestEnv(t, func(c *Config) { configure(t, c) })
			b := e.browser()
			for i := 0; i < 10; i++ {
				pg := b.submit("/login", "/login", url.Values{"username": {"alice@example.com"}, "password": {"wrong"}})
				if pg.status != http.StatusUnauthorized {
					t.Fatalf("failure %d: status %d", i+1, pg.status)
				}
			}
			// Locked: even the right password is refused, with the case of
			// the identifier ignored.
			pg := b.submit("/login", "/login", url.Values{"username": {"Alice@Example.com"}, "password": {alicePassword}})
			if pg.status != http.StatusTooManyRequests {
				t.Fatalf("11th attempt: status %d, want 429", pg.status)
			}
			if pg.header.Get("Retry-After") != "60" {
				t.Fatalf("Retry-After %q, want 60", pg.header.Get("Retry-After"))
			}
			if !strings.Contains(pg.body, "Try again in 60 seconds") {
				t.Fatalf("page does not say when to try again:\n%s", pg.body)
			}
			if e.auditCount("login.locked") != 1 || e.auditCount("login.throttled") != 1 {
				t.Fatalf("audit: locked %d throttled %d", e.auditCount("login.locked"), e.auditCount("login.throttled"))
			}
			// Another account is not affected.
			e.users.Add(identity.User{ID: "u-carol", Email: "carol@example.com"}, "carols password")
			if pg := e.browser().submit("/login", "/login", url.Values{"username": {"carol@example.com"}, "password": {"carols password"}}); pg.status != http.StatusSeeOther {
				t.Fatalf("other account: status %d", pg.status)
			}
			e.clock.Advance(61 * time.Second)
			if pg := b.submit("/login", "/login", url.Values{"username": {"alice@example.com"}, "password": {alicePassword}}); pg.status != http.StatusSeeOther {
				t.Fatalf("after the lock: status %d", pg.status)
			}
		})
	}
}

func TestLoginLockoutUnknownAccountLooksTheSame(t *testing.T) {
	e := newPagesTestEnv(t)
	lock := func(user string) testPage {
		b := e.browser()
		for i := 0; i < 10; i++ {
			if pg := b.submit("/login", "/login", url.Values{"username": {user}, "password": {"wrong"}}); pg.status != http.StatusUnauthorized {
				t.Fatalf("%s failure %d: %d", user, i+1, pg.status)
			}
		}
		return b.submit("/login", "/login", url.Values{"username": {user}, "password": {"wrong"}})
	}
	known, unknown := lock("alice@example.com"), lock("nobody@example.com")
	if known.status != http.StatusTooManyRequests || unknown.status != http.StatusTooManyRequests {
		t.Fatalf("status known %d unknown %d, want 429", known.status, unknown.status)
	}
	if known.header.Get("Retry-After") != unknown.header.Get("Retry-After") || known.body != unknown.body {
		t.Fatalf("the 429 differs for an unknown account:\n%s\n---\n%s", known.body, unknown.body)
	}
}

func TestLoginSourceAddressLimit(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	for i := 0; i < 60; i++ {
		// A different identifier each time, so no account lock applies.
		pg := b.submit("/login", "/login", url.Values{"username": {"user" + strconv.Itoa(i)}, "password": {"wrong"}})
		if pg.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, pg.status)
		}
	}
	pg := b.submit("/login", "/login", url.Values{"username": {"alice@example.com"}, "password": {alicePassword}})
	if pg.status != http.StatusTooManyRequests {
		t.Fatalf("61st attempt: status %d, want 429", pg.status)
	}
	secs, err := strconv.Atoi(pg.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", pg.header.Get("Retry-After"))
	}
	if e.auditCount("login.throttled") != 1 {
		t.Fatal("no login.throttled event")
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	if pg := b.submit("/login", "/login", url.Values{"username": {"alice@example.com"}, "password": {alicePassword}}); pg.status != http.StatusSeeOther {
		t.Fatalf("next minute: status %d", pg.status)
	}
}

func TestLoginServesAuthRequest(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, LoginHint: "alice@example.com"})
	b := e.browser()
	form := b.get("/login?authRequestID=r1")
	if got := htmlAttr(fieldByLabel(t, form.doc, "Email or username"), "value"); got != "alice@example.com" {
		t.Fatalf("login_hint not prefilled: %q", got)
	}
	pg := b.signIn("?authRequestID=r1")
	if pg.location() != "https://app.example/cb?code=code-r1" {
		t.Fatalf("redirect %q", pg.location())
	}
	a, ok := e.flow.completion("r1")
	if !ok || a.UserID != aliceID || a.SessionID == "" || a.ACR != flow.ACRPassword || !slices.Equal(a.AMR, []string{"pwd"}) || !a.AuthTime.Equal(e.clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("completion = %+v", a)
	}

	// With the session, a new request is served without the form.
	e.clock.Advance(5 * time.Minute)
	e.flow.add(flow.PendingRequest{ID: "r2", FirstParty: true})
	if pg := b.get("/login?authRequestID=r2"); pg.status != http.StatusSeeOther || pg.location() != "https://app.example/cb?code=code-r2" {
		t.Fatalf("silent sign-in: %d %q", pg.status, pg.location())
	}
	if a2, _ := e.flow.completion("r2"); a2.SessionID != a.SessionID || !a2.AuthTime.Equal(a.AuthTime) {
		t.Fatalf("r2 = %+v", a2)
	}
	// prompt=none with a session works too.
	e.flow.add(flow.PendingRequest{ID: "r3", FirstParty: true, Prompt: []string{"none"}})
	if pg := b.get("/login?authRequestID=r3"); pg.location() != "https://app.example/cb?code=code-r3" {
		t.Fatalf("prompt=none with session: %d %q", pg.status, pg.location())
	}

	// prompt=login and a too old max_age show the form again.
	maxAge := time.Minute
	for _, r := range []flow.PendingRequest{
		{ID: "r4", FirstParty: true, Prompt: []string{"login"}},
		{ID: "r5", FirstParty: true, MaxAge: &maxAge},
	} {
		e.flow.add(r)
		pg := b.get("/login?authRequestID=" + r.ID)
		if pg.status != http.StatusOK || buttonNamed(pg.doc, "Sign in") == nil {
			t.Fatalf("%s: %d, want the form", r.ID, pg.status)
		}
	}
	// A fresh sign-in for r5 raises auth_time.
	e.clock.Advance(time.Minute)
	b.signIn("?authRequestID=r5")
	if a5, _ := e.flow.completion("r5"); !a5.AuthTime.After(a.AuthTime) || a5.SessionID != a.SessionID {
		t.Fatalf("r5 = %+v (first %+v)", a5, a)
	}
	// A max_age the session meets needs no form.
	long := time.Hour
	e.flow.add(flow.PendingRequest{ID: "r6", FirstParty: true, MaxAge: &long})
	if pg := b.get("/login?authRequestID=r6"); pg.status != http.StatusSeeOther {
		t.Fatalf("r6: %d", pg.status)
	}
}

func TestLoginPromptNoneWithoutSession(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, Prompt: []string{"none"}})
	pg := e.browser().get("/login?authRequestID=r1")
	if pg.status != http.StatusSeeOther || pg.location() != "https://app.example/cb?error=login_required" {
		t.Fatalf("status %d location %q", pg.status, pg.location())
	}
	if e.flow.failure("r1") != "login_required" {
		t.Fatalf("failure = %q", e.flow.failure("r1"))
	}
}

func TestLoginPromptNoneTooOldSession(t *testing.T) {
	e := newPagesTestEnv(t)
	b := e.browser()
	b.signIn("")
	e.clock.Advance(time.Hour)
	maxAge := time.Minute
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, Prompt: []string{"none"}, MaxAge: &maxAge})
	if pg := b.get("/login?authRequestID=r1"); pg.location() != "https://app.example/cb?error=login_required" {
		t.Fatalf("location %q", pg.location())
	}
}

func TestLoginPasskeyRequired(t *testing.T) {
	e := newPagesTestEnv(t)
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, ACRValues: []string{"phr"}})
	b := e.browser()
	pg := b.submit("/login?authRequestID=r1", "/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "This app requires a passkey") {
		t.Fatalf("status %d\n%s", pg.status, pg.body)
	}
	if e.flow.failure("r1") != "unmet_authentication_requirements" {
		t.Fatalf("failure = %q", e.flow.failure("r1"))
	}
	links := htmlFindAll(pg.doc, func(n *html.Node) bool {
		return n.Data == "a" && htmlAttr(n, "href") == "https://app.example/cb?error=unmet_authentication_requirements"
	})
	if len(links) != 1 {
		t.Fatal("no way back to the app")
	}
	// With a session, a user without a passkey is told so at once.
	e.flow.add(flow.PendingRequest{ID: "r2", FirstParty: true, ACRValues: []string{"phr"}})
	if pg := b.get("/login?authRequestID=r2"); pg.status != http.StatusOK || e.flow.failure("r2") != "unmet_authentication_requirements" {
		t.Fatalf("r2: %d %q", pg.status, e.flow.failure("r2"))
	}
}

func TestLoginAnotherUserReplacesSession(t *testing.T) {
	e := newPagesTestEnv(t)
	e.users.Add(identity.User{ID: "u-carol", Email: "carol@example.com"}, "carols password")
	b := e.browser()
	first := sessionCookieOf(b.signIn(""))
	// Signed in, the form shows for a request that asks for a new sign-in.
	e.flow.add(flow.PendingRequest{ID: "r1", FirstParty: true, Prompt: []string{"login"}})
	pg := b.submit("/login?authRequestID=r1", "/login", url.Values{"username": {"carol@example.com"}, "password": {"carols password"}})
	if pg.status != http.StatusSeeOther || sessionCookieOf(pg) == nil || sessionCookieOf(pg).Value == first.Value {
		t.Fatalf("status %d", pg.status)
	}
	if a, _ := e.flow.completion("r1"); a.UserID != "u-carol" {
		t.Fatalf("r1 completed for %q", a.UserID)
	}
	if e.sessionCount(aliceID) != 0 || e.sessionCount("u-carol") != 1 {
		t.Fatal("alice's session was not replaced by carol's")
	}
}

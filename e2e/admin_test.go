package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestAdminConsole is the console's main journey in Chromium, as the
// bootstrap admin: create a user, find them, assign a role, disable them,
// create a client (its secret shown once) and read all of it in the audit
// log. A name made of markup stays text.
func TestAdminConsole(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	ctx := newBrowser(t)

	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin")
	browserSignIn(t, ctx, srv.AdminEmail, srv.AdminPassword)
	waitPath(t, ctx, "/admin")
	for _, l := range []string{"Overview", "Users", "Roles", "Clients", "API keys", "Policies", "Audit log", "Signing keys"} {
		browserDo(t, ctx, "navigation link "+l, chromedp.WaitVisible("link "+l, byName("link", l)))
	}

	// Create user → the form → Create.
	const evil = `<img src=x onerror=alert(1)>`
	browserClick(t, ctx, "Create user")
	waitPath(t, ctx, "/admin/users/new")
	browserFill(t, ctx, "Email", "nora@example.com")
	browserFill(t, ctx, "Name", evil)
	browserFill(t, ctx, "Password", "nora's long passphrase")
	browserClick(t, ctx, "Create")
	browserWaitText(t, ctx, "The user was created.")

	// Find them with Search users and open them.
	browserNavigate(t, ctx, srv.URL+"/admin")
	sel, by := "searchbox Search users", byName("searchbox", "Search users")
	browserDo(t, ctx, "search", chromedp.WaitVisible(sel, by), chromedp.SendKeys(sel, "nora", by))
	browserClick(t, ctx, "Search")
	browserDo(t, ctx, "open nora", chromedp.WaitVisible("link nora", byName("link", "nora@example.com")),
		chromedp.Click("link nora", byName("link", "nora@example.com")))
	browserWaitText(t, ctx, "Last sign-in")
	if !strings.Contains(browserText(t, ctx), evil) {
		t.Errorf("the name %q is not shown as text:\n%s", evil, pageState(ctx))
	}
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('img').length"))
	if err != nil || imgs != 0 {
		t.Errorf("the page has %d img elements (err %v): a name became markup", imgs, err)
	}

	// Role select + Assign role; then Disable.
	browserDo(t, ctx, "choose a role", chromedp.WaitVisible("combobox Role", byName("combobox", "Role")),
		chromedp.SetValue("combobox Role", "auditor", byName("combobox", "Role")))
	browserClick(t, ctx, "Assign role")
	browserWaitText(t, ctx, "The role was assigned.")
	browserClick(t, ctx, "Disable")
	browserWaitText(t, ctx, "The user was disabled")
	browserHasButton(t, ctx, "Enable")

	// Create client: the secret is shown once.
	browserNavigate(t, ctx, srv.URL+"/admin/clients")
	browserClick(t, ctx, "Create client")
	browserFill(t, ctx, "Name", "Wiki")
	browserFill(t, ctx, "Redirect URIs", "https://wiki.example.com/callback")
	browserClick(t, ctx, "Create")
	browserWaitText(t, ctx, "shown only once")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(browserText(t, ctx))
	if m == nil || !strings.Contains(browserText(t, ctx), "discovery_url: "+srv.URL+"/.well-known/openid-configuration") {
		t.Fatalf("no secret and configuration after Create:\n%s", pageState(ctx))
	}
	browserNavigate(t, ctx, srv.URL+"/admin/clients")
	browserWaitText(t, ctx, "Wiki")
	if strings.Contains(browserText(t, ctx), m[1]) {
		t.Error("the client list shows the secret again")
	}

	// The audit log has every change, newest first, and filters by Action.
	browserNavigate(t, ctx, srv.URL+"/admin/audit")
	text := browserText(t, ctx)
	for _, a := range []string{"client.create", "user.disable", "role.assign", "user.create"} {
		if !strings.Contains(text, a) {
			t.Errorf("the audit log lacks %s:\n%s", a, text)
		}
	}
	if strings.Index(text, "client.create") > strings.Index(text, "user.create") {
		t.Error("the audit log is not newest first")
	}
	browserFill(t, ctx, "Action", "role.assign")
	browserClick(t, ctx, "Filter")
	waitUntil(t, func() bool {
		q, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.search"))
		return err == nil && strings.Contains(q, "action=role.assign")
	})
	browserWaitText(t, ctx, "role.assign")
	if text := browserText(t, ctx); strings.Contains(text, "client.create") {
		t.Errorf("the Action filter kept other events:\n%s", text)
	}

	// Signing keys: "Rotate now" retires the keys in use, and is audited.
	browserNavigate(t, ctx, srv.URL+"/admin/signing-keys")
	browserWaitText(t, ctx, "RS256")
	browserClick(t, ctx, "Rotate now")
	browserWaitText(t, ctx, "New signing keys are in use")
	browserWaitText(t, ctx, "retired")
	browserNavigate(t, ctx, srv.URL+"/admin/audit?action=signing-keys.rotate")
	browserWaitText(t, ctx, "signing-keys.rotate")
}

// TestAdminConsoleAccess: a user-admin sees Users but not Clients; a user
// with no role that may read users gets 403 on /admin.
func TestAdminConsoleAccess(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	createUser(t, srv, "uma@example.com", "uma's long passphrase", "user-admin")
	createUser(t, srv, "paul@example.com", "paul's long passphrase")

	signIn := func(email, password string) *userAgent {
		ua := newUserAgent(t, srv)
		login := ua.get(srv.URL + "/login?return_to=/admin")
		ua.submit(login, findForm(t, login.Body, "password"), url.Values{"username": {email}, "password": {password}})
		return ua
	}
	uma := signIn("uma@example.com", "uma's long passphrase")
	r := uma.get(srv.URL + "/admin")
	if r.Status != http.StatusOK || r.Final.Path != "/admin" || !strings.Contains(string(r.Body), `href="/admin/users"`) {
		t.Fatalf("user-admin on /admin: %d at %s\n%.600s", r.Status, r.Final, r.Body)
	}
	if strings.Contains(string(r.Body), `href="/admin/clients"`) {
		t.Error("a user-admin's navigation links to Clients")
	}
	if r := uma.get(srv.URL + "/admin/clients"); r.Status != http.StatusForbidden {
		t.Errorf("user-admin on /admin/clients: %d, want 403", r.Status)
	}
	paul := signIn("paul@example.com", "paul's long passphrase")
	r = paul.get(srv.URL + "/admin")
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "Forbidden") {
		t.Errorf("plain user on /admin: %d, want a 403 page\n%.400s", r.Status, r.Body)
	}
	if csp := r.Header.Get("Content-Security-Policy"); csp == "" || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
}

// browserFill types text into the field labelled label.
func browserFill(t *testing.T, ctx context.Context, label, text string) {
	t.Helper()
	sel, by := field(label)
	browserDo(t, ctx, "fill "+sel, chromedp.WaitVisible(sel, by), chromedp.SendKeys(sel, text, by))
}

// browserWaitText waits until the page's text contains s.
func browserWaitText(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''")); err == nil && strings.Contains(text, s) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page never showed %q\n%s", s, pageState(ctx))
}

// TestAdminUsersSearchAsYouType: typing part of a name into "Search users"
// narrows the table without a submit and without a page load (htmx ran under
// the strict CSP), the address bar follows the search, and the browser
// reports no CSP violation. The detector is shown to work at the end by a
// deliberate violation.
func TestAdminUsersSearchAsYouType(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	for _, email := range []string{"nadia@example.com", "nathan@example.com", "olga@example.com"} {
		createUser(t, srv, email, email+"'s long passphrase") // named "User <email>"
	}
	ctx := newBrowser(t)
	var (
		mu         sync.Mutex
		violations []string
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			msg = ev.Entry.Text
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				msg = "console.error"
			}
		}
		if msg != "" && (strings.Contains(msg, "Content Security Policy") || strings.HasPrefix(msg, "exception") || msg == "console.error") {
			mu.Lock()
			violations = append(violations, msg)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(violations) }

	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin/users")
	browserSignIn(t, ctx, srv.AdminEmail, srv.AdminPassword)
	waitPath(t, ctx, "/admin/users")
	sel, by := "searchbox Search users", byName("searchbox", "Search users")
	browserDo(t, ctx, "the search field", chromedp.WaitVisible(sel, by))
	browserWaitText(t, ctx, "olga@example.com")
	ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && (window.stillThisPage = true)`))
	if err != nil || !ready {
		t.Fatalf("htmx is not loaded on the users page (%v)\n%s", err, pageState(ctx))
	}
	results := func() (string, string, bool) {
		type state struct {
			Table, Search string
			Same          bool
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[state](
			`({table: document.querySelector("#user-results").innerText,
			   search: new URLSearchParams(location.search).get("q") || "", same: window.stillThisPage === true})`))
		if err != nil {
			t.Fatalf("read the results: %v", err)
		}
		return s.Table, s.Search, s.Same
	}
	narrowsTo := func(typed string, want, gone []string, count string) {
		t.Helper()
		browserDo(t, ctx, "type "+typed, chromedp.SendKeys(sel, typed, by))
		deadline := time.Now().Add(15 * time.Second)
		for {
			table, search, same := results()
			ok := !slices.ContainsFunc(gone, func(s string) bool { return strings.Contains(table, s) }) &&
				!slices.ContainsFunc(want, func(s string) bool { return !strings.Contains(table, s) })
			if ok {
				if !same {
					t.Fatal("the page was reloaded: the search was submitted, not swapped in by htmx")
				}
				if !strings.HasPrefix(search, "User na") {
					t.Errorf("the address bar did not follow the search: q=%q", search)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after typing %q the table shows:\n%s\n(search %q, same page %v)", typed, table, search, same)
			}
			time.Sleep(100 * time.Millisecond)
		}
		browserWaitText(t, ctx, count)
	}
	// Part of a name (names are "User <email>"): nadia and nathan; then nadia.
	narrowsTo("User na", []string{"nadia@example.com", "nathan@example.com"}, []string{"olga@", "admin@"}, "2 users match.")
	narrowsTo("d", []string{"nadia@example.com"}, []string{"nathan@", "olga@", "admin@"}, "1 user matches.")

	if v := seen(); len(v) != 0 {
		t.Errorf("the console reported CSP violations or script errors: %q", v)
	}

	// The session ends: the next keystroke takes the whole tab to /login
	// (HX-Redirect), rather than the sign-in page appearing in the table.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "type after the session ended", chromedp.SendKeys(sel, "i", by))
	waitPath(t, ctx, "/login")
	waitUntil(t, func() bool {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stillThisPage === undefined && !document.querySelector("#user-results")`))
		return err == nil && loaded
	})
	ret, err := url.Parse(browserLocation(t, ctx).Query().Get("return_to"))
	if err != nil || ret.Path != "/admin/users" || ret.Query().Get("q") != "User nadi" {
		t.Errorf("return_to %v (%v), want the search", ret, err)
	}
	// The detector works: an inline style is refused and reported.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.head.insertAdjacentHTML("beforeend", "<style>p{}</style>"), true`)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(seen()) > 0 })
	if v := seen(); !strings.Contains(v[0], "Content Security Policy") {
		t.Errorf("the deliberate violation was reported as %q", v)
	}
}

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCSignInPages: the pages of the sign-in flow (/login, /consent, the
// logout prompt) send the CONTRACT's security headers; the session cookie
// set by a successful sign-in is HttpOnly and SameSite=Lax; a wrong
// password shows the form again without a code reaching the app.
func TestOIDCSignInPages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "third-party", "--redirect-uri", cb.URL+"/callback")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "kim@example.com", password)
	p := newProvider(t, srv)
	cfg := oauthConfig(p, client, oidc.ScopeOpenID)

	ua := newUserAgent(t, srv)
	page := ua.get(newAuthRequest(cfg).URL)
	if page.Status != http.StatusOK || page.Final.Path != "/login" {
		t.Fatalf("authorization request ended at %s (%d), want /login", page.Final, page.Status)
	}
	assertSecurityHeaders(t, page.Header)
	f := findForm(t, page.Body, "password")
	if !contains(f.Names, "username") {
		t.Errorf("the sign-in form has fields %v, want username and password (CONTRACT)", f.Names)
	}

	// A wrong password: the form again (no redirect to the app).
	res := ua.submit(page, f, url.Values{"username": {"kim@example.com"}, "password": {"wrong"}})
	if res.Status >= 300 && res.Status < 400 {
		t.Fatalf("a wrong password redirected to %s", res.Header.Get("Location"))
	}
	if !strings.Contains(string(res.Body), `name="password"`) {
		t.Errorf("after a wrong password the page (%d) has no sign-in form:\n%.600s", res.Status, visibleText(res.Body))
	}
	cb.noHit(t)

	// The right password, seen without following the redirect: the session
	// cookie's attributes.
	page = ua.get(newAuthRequest(cfg).URL)
	f = findForm(t, page.Body, "password")
	action, _ := page.Final.Parse(f.Action)
	form := url.Values{}
	for k, v := range f.Fields {
		form[k] = v
	}
	form.Set("username", "kim@example.com")
	form.Set("password", password)
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	for _, c := range ua.client.Jar.Cookies(action) {
		req.AddCookie(c)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	login := readResponse(t, "POST", action.String(), resp)
	if login.Status < 300 || login.Status > 399 {
		t.Fatalf("a correct sign-in answered %d, want a redirect\n%.600s", login.Status, visibleText(login.Body))
	}
	sessionCookies := 0
	for _, c := range resp.Cookies() {
		if strings.Contains(strings.ToLower(c.Name), "csrf") || c.MaxAge < 0 {
			continue
		}
		sessionCookies++
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s set at sign-in: HttpOnly=%v SameSite=%v, want HttpOnly and SameSite=Lax (CONTRACT)", c.Name, c.HttpOnly, c.SameSite)
		}
	}
	if sessionCookies == 0 {
		t.Errorf("a successful sign-in set no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	ua.client.Jar.SetCookies(action, resp.Cookies())

	// The consent page (a third-party client).
	next := ua.get(mustParse(t, login.URL).ResolveReference(mustParse(t, login.Header.Get("Location"))).String())
	if next.Status != http.StatusOK || next.Final.Path != "/consent" {
		t.Fatalf("after sign-in for a third-party client: %s (%d), want /consent", next.Final, next.Status)
	}
	assertSecurityHeaders(t, next.Header)
	cf := findForm(t, next.Body, "csrf_token")
	if cf.Fields.Get("csrf_token") == "" {
		t.Errorf("the consent form has no csrf_token (CONTRACT: every form)")
	}

	// The logout prompt.
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&meta)
	lo := ua.get(meta.EndSession)
	if lo.Status != http.StatusOK {
		t.Fatalf("end_session without a hint answered %d at %s, want the prompt page", lo.Status, lo.Final)
	}
	assertSecurityHeaders(t, lo.Header)
	if !strings.Contains(visibleText(lo.Body), "Sign out") {
		t.Errorf("the logout prompt has no Sign out:\n%.600s", visibleText(lo.Body))
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}

// TestOIDCStepUpWithoutPasskey: acr_values=phr asks for a passkey in this
// sign-in; a user without one is told so and the app receives
// error=unmet_authentication_requirements (CONTRACT; OIDC Core §3.1.2.6).
func TestOIDCStepUpWithoutPasskey(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "lee@example.com", password)
	p := newProvider(t, srv)
	cfg := oauthConfig(p, client, oidc.ScopeOpenID)

	ctx := newBrowser(t)
	ar := newAuthRequest(cfg, oauth2.SetAuthURLParam("acr_values", "phr"))
	browserNavigate(t, ctx, ar.URL)
	browserSignIn(t, ctx, "lee@example.com", password)
	// The user is told (the page mentions a passkey) before the app hears.
	told := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !told; time.Sleep(100 * time.Millisecond) {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if strings.HasPrefix(loc, cb.URL) {
			break
		}
		told = err == nil && strings.Contains(strings.ToLower(text), "passkey")
	}
	if !told {
		t.Errorf("the user was not told that a passkey is needed: %s", pageState(ctx))
	}
	q := cb.wait(t, func() string { return pageState(ctx) })
	if q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != ar.State || q.Get("code") != "" {
		t.Errorf("acr_values=phr for a user without a passkey: the app got %v, want error=unmet_authentication_requirements with the state", q)
	}
}

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Helpers for the OpenID Connect end-to-end tests: an app's view of
// Gatehouse through go-oidc and x/oauth2, a loopback callback server, a
// browser driven by accessible names, and a cookie-keeping plain HTTP
// "browser" for flows that do not need Chromium.

// oidcClient is a registered OAuth client as `gatehouse clients create`
// printed it.
type oidcClient struct {
	ID          string `json:"client_id"`
	Secret      string `json:"client_secret"`
	RedirectURI string `json:"-"`
}

// createOIDCClient registers a client with the CLI and parses its JSON.
func createOIDCClient(t *testing.T, srv *server, args ...string) oidcClient {
	t.Helper()
	out := mustCLI(t, srv, "", append([]string{"clients", "create"}, args...)...)
	var c oidcClient
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("clients create printed %q, want JSON {client_id, client_secret}: %v", out, err)
	}
	if c.ID == "" {
		t.Fatalf("clients create printed %q: no client_id", out)
	}
	for i, a := range args {
		if a == "--redirect-uri" && i+1 < len(args) && c.RedirectURI == "" {
			c.RedirectURI = args[i+1]
		}
	}
	return c
}

// callbackServer is the app's redirect endpoint on loopback: it records
// every query it receives.
type callbackServer struct {
	URL  string // http://127.0.0.1:PORT
	hits chan url.Values
}

func newCallbackServer(t *testing.T) *callbackServer {
	t.Helper()
	cb := &callbackServer{hits: make(chan url.Values, 32)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r) // the browser's own request, not a redirect
			return
		}
		q := r.URL.Query()
		q.Set("_path", r.URL.Path)
		select {
		case cb.hits <- q:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>App callback</title><p>app callback received</p>")
	}))
	t.Cleanup(ts.Close)
	cb.URL = ts.URL
	return cb
}

// wait returns the next callback hit, failing after a minute. onTimeout,
// when set, describes where the user got stuck.
func (cb *callbackServer) wait(t *testing.T, onTimeout func() string) url.Values {
	t.Helper()
	select {
	case q := <-cb.hits:
		return q
	case <-time.After(60 * time.Second):
		msg := ""
		if onTimeout != nil {
			msg = onTimeout()
		}
		t.Fatalf("the app's callback was not reached within 60s; %s", msg)
	}
	return nil
}

// noHit fails if the callback server was reached.
func (cb *callbackServer) noHit(t *testing.T) {
	t.Helper()
	select {
	case q := <-cb.hits:
		t.Fatalf("the app's callback was reached unexpectedly: %v", q)
	default:
	}
}

// newProvider discovers the issuer with go-oidc (which checks that the
// document's issuer matches).
func newProvider(t *testing.T, srv *server) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatalf("go-oidc discovery of %s: %v", srv.URL, err)
	}
	return p
}

// discoveryDoc is the raw discovery document.
func discoveryDoc(t *testing.T, srv *server) map[string]any {
	t.Helper()
	r := get(t, srv.URL+"/.well-known/openid-configuration").expect(t, http.StatusOK)
	var d map[string]any
	r.decode(t, &d)
	return d
}

func docString(t *testing.T, d map[string]any, key string) string {
	t.Helper()
	s, _ := d[key].(string)
	if s == "" {
		t.Fatalf("discovery: %s missing or not a string: %v", key, d[key])
	}
	return s
}

func docStrings(d map[string]any, key string) []string {
	var out []string
	list, _ := d[key].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// oauthConfig is the app's x/oauth2 configuration (client_secret_basic,
// which RFC 6749 §2.3.1 requires every server to support).
func oauthConfig(p *oidc.Provider, c oidcClient, scopes ...string) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if c.Secret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: ep, RedirectURL: c.RedirectURI, Scopes: scopes}
}

// authRequest is one authorization request an app prepares.
type authRequest struct {
	URL, State, Nonce, Verifier string
}

// newAuthRequest builds an authorization URL with state, nonce and an S256
// PKCE challenge; extra adds parameters.
func newAuthRequest(cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) authRequest {
	a := authRequest{State: randomHex(12), Nonce: randomHex(12), Verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier)}, extra...)
	a.URL = cfg.AuthCodeURL(a.State, opts...)
	return a
}

// codeFrom checks a callback hit for the state and returns the code.
func codeFrom(t *testing.T, q url.Values, state string) string {
	t.Helper()
	if e := q.Get("error"); e != "" {
		t.Fatalf("the app received error=%s (%s), want a code", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatalf("callback state %q, want %q", q.Get("state"), state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback without a code: %v", q)
	}
	return q.Get("code")
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// jwtParts decodes a compact JWS's header and payload without verifying.
func jwtParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token %.40q... is not a compact JWS (%d parts)", raw, len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token segment is not base64url: %v", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("token segment is not JSON: %v\n%s", err, b)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// claimStrings reads a string or string-array claim.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// postForm posts a form to an endpoint, with HTTP Basic client
// authentication when user is not empty.
func postForm(t *testing.T, endpoint string, form url.Values, user, pass string) *apiResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	return readResponse(t, http.MethodPost, endpoint, resp)
}

// expectOAuthError checks an RFC 6749 §5.2 error answer.
func expectOAuthError(t *testing.T, r *apiResponse, status int, code string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	if r.Status != status || e.Error != code {
		t.Fatalf("%s %s: status %d error %q, want %d %q (RFC 6749 §5.2)\n%s", r.Method, r.URL, r.Status, e.Error, status, code, r.Body)
	}
}

// introspect asks the introspection endpoint (RFC 7662) as client c.
func introspect(t *testing.T, endpoint string, c oidcClient, token string) map[string]any {
	t.Helper()
	return introspectHint(t, endpoint, c, token, "")
}

// introspectHint is introspect with a token_type_hint (RFC 7662 §2.1).
func introspectHint(t *testing.T, endpoint string, c oidcClient, token, hint string) map[string]any {
	t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	r := postForm(t, endpoint, form, c.ID, c.Secret)
	r.expect(t, http.StatusOK)
	var m map[string]any
	r.decode(t, &m)
	if _, ok := m["active"].(bool); !ok {
		t.Fatalf("introspection answer without a boolean active (RFC 7662 §2.2): %s", r.Body)
	}
	return m
}

func isActive(m map[string]any) bool { b, _ := m["active"].(bool); return b }

// revoke posts to the revocation endpoint (RFC 7009) as client c; 200 is
// the only success answer (§2.2).
func revoke(t *testing.T, endpoint string, c oidcClient, token, hint string) {
	t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	postForm(t, endpoint, form, c.ID, c.Secret).expect(t, http.StatusOK)
}

// tokenResponse is a token endpoint's JSON answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
}

// --- Chromium, by accessible name ---

// byName selects elements by their computed accessible name and role, as a
// user (or a screen reader) finds them.
func byName(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, tg *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, tg, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
			NodeID: n.NodeID, AccessibleName: name, Role: role,
		})
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, ax := range res.Nodes {
			if !ax.Ignored && ax.BackendDOMNodeID != 0 {
				backend = append(backend, ax.BackendDOMNodeID)
			}
		}
		if len(backend) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, tg, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		if err != nil {
			return nil, err
		}
		return pushed.NodeIDs, nil
	})
}

func field(name string) (string, chromedp.QueryOption) {
	return "textbox " + strconvQuote(name), byName("textbox", name)
}

func button(name string) (string, chromedp.QueryOption) {
	return "button " + strconvQuote(name), byName("button", name)
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// pageState describes the tab for failure messages.
func pageState(ctx context.Context) string {
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	if len(text) > 600 {
		text = text[:600] + "…"
	}
	return fmt.Sprintf("browser at %s showing:\n%s", loc, text)
}

// browserDo runs actions with a 30-second limit, failing with the page state.
func browserDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("browser: %s: %v\n%s", what, err, pageState(ctx))
	}
}

// browserLocation returns the tab's URL.
func browserLocation(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("browser location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("browser location %q: %v", loc, err)
	}
	return u
}

// browserText returns the page's visible text.
func browserText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	if err != nil {
		t.Fatalf("browser text: %v", err)
	}
	return s
}

// browserSignIn fills the /login form the browser shows and submits it. It
// checks the CONTRACT's labels and names.
func browserSignIn(t *testing.T, ctx context.Context, login, password string) {
	t.Helper()
	userSel, userBy := field("Email or username")
	passSel, passBy := field("Password")
	signSel, signBy := button("Sign in")
	browserDo(t, ctx, "the sign-in form", chromedp.WaitVisible(userSel, userBy), chromedp.WaitVisible(passSel, passBy), chromedp.WaitVisible(signSel, signBy))
	if u := browserLocation(t, ctx); u.Path != "/login" {
		t.Errorf("sign-in form at %s, want the path /login (CONTRACT: Browser pages)", u)
	}
	for _, f := range []struct {
		label, name string
		by          chromedp.QueryOption
	}{{"Email or username", "username", userBy}, {"Password", "password", passBy}} {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		attrs, err := chromedp.Run(c, chromedp.Attributes(f.label, f.by))
		cancel()
		if err != nil {
			t.Fatalf("attributes of %q: %v", f.label, err)
		}
		if attrs["name"] != f.name {
			t.Errorf("field %q has name %q, want %q (CONTRACT: Browser pages)", f.label, attrs["name"], f.name)
		}
	}
	browserDo(t, ctx, "fill in and submit the sign-in form",
		chromedp.SendKeys(userSel, login, userBy),
		chromedp.SendKeys(passSel, password, passBy),
		chromedp.Click(signSel, signBy),
	)
}

// browserClick clicks the button with that accessible name.
func browserClick(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sel, by := button(name)
	browserDo(t, ctx, "click "+sel, chromedp.WaitVisible(sel, by), chromedp.Click(sel, by))
}

// browserHasButton waits until the button with that name is visible.
func browserHasButton(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sel, by := button(name)
	browserDo(t, ctx, "wait for "+sel, chromedp.WaitVisible(sel, by))
}

// browserNavigate opens a URL in the tab.
func browserNavigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(c, chromedp.Navigate(u))
	// Chromium reports ERR_ABORTED when a navigation that ends in a
	// server-side redirect races the previous page's last requests; the
	// redirected page still loads. Wait for it; the caller's assertions on
	// the page decide whether the right one arrived.
	if err != nil && strings.Contains(err.Error(), "net::ERR_ABORTED") {
		err = chromedp.Do(c, chromedp.WaitReady("body"))
	}
	if err != nil {
		t.Fatalf("browser: navigate to %s: %v\n%s", u, err, pageState(ctx))
	}
}

// --- a plain HTTP user agent with cookies ---

// userAgent is a cookie-keeping HTTP client that follows redirects within
// Gatehouse but stops at any other host (the app's callback), like a browser
// whose app we watch.
type userAgent struct {
	t      *testing.T
	client *http.Client
	issuer *url.URL
}

func newUserAgent(t *testing.T, srv *server) *userAgent {
	jar, _ := cookiejar.New(nil)
	iss, _ := url.Parse(srv.URL)
	ua := &userAgent{t: t, issuer: iss}
	ua.client = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != iss.Host || len(via) > 20 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return ua
}

// uaResponse is a response with its final URL.
type uaResponse struct {
	*apiResponse
	Final *url.URL
}

// Location is the redirect target of a 3xx answer.
func (r *uaResponse) Location(t *testing.T) *url.URL {
	t.Helper()
	if r.Status < 300 || r.Status > 399 {
		t.Fatalf("%s %s: status %d, want a redirect\n%.800s", r.Method, r.Final, r.Status, r.Body)
	}
	u, err := r.Final.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatalf("bad Location %q: %v", r.Header.Get("Location"), err)
	}
	return u
}

func (ua *userAgent) do(req *http.Request) *uaResponse {
	t := ua.t
	t.Helper()
	resp, err := ua.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	final := resp.Request.URL
	return &uaResponse{apiResponse: readResponse(t, req.Method, final.String(), resp), Final: final}
}

func (ua *userAgent) get(u string) *uaResponse {
	ua.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		ua.t.Fatal(err)
	}
	req.Header.Set("Accept", browserAccept)
	return ua.do(req)
}

func (ua *userAgent) post(u string, form url.Values) *uaResponse {
	ua.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		ua.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	// A browser sends Origin on a form post; CSRF defences may check it.
	req.Header.Set("Origin", ua.issuer.Scheme+"://"+ua.issuer.Host)
	return ua.do(req)
}

// htmlForm is a parsed <form>.
type htmlForm struct {
	Action string
	Method string
	Fields url.Values // hidden and pre-filled inputs
	Names  []string   // every input/button name
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?is)([a-z_:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		v := a[3] + a[4] + a[5]
		m[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return m
}

// findForm returns the first form of the page that has an input or button
// named with.
func findForm(t *testing.T, body []byte, with string) htmlForm {
	t.Helper()
	for _, f := range formRe.FindAllStringSubmatch(string(body), -1) {
		fa := attrs(f[1])
		form := htmlForm{Action: fa["action"], Method: strings.ToUpper(fa["method"]), Fields: url.Values{}}
		found := false
		for _, in := range inputRe.FindAllStringSubmatch(f[2], -1) {
			ia := attrs(in[2])
			name := ia["name"]
			if name == "" {
				continue
			}
			form.Names = append(form.Names, name)
			if name == with {
				found = true
			}
			if strings.EqualFold(in[1], "input") && ia["type"] != "submit" && ia["type"] != "checkbox" {
				if _, ok := ia["value"]; ok {
					form.Fields.Set(name, ia["value"])
				}
			}
		}
		if found {
			return form
		}
	}
	t.Fatalf("no form with a field %q in the page:\n%.1500s", with, body)
	return htmlForm{}
}

// submit posts the form with the extra values, relative to the page URL.
func (ua *userAgent) submit(page *uaResponse, f htmlForm, values url.Values) *uaResponse {
	ua.t.Helper()
	action, err := page.Final.Parse(f.Action)
	if err != nil {
		ua.t.Fatalf("form action %q: %v", f.Action, err)
	}
	form := url.Values{}
	for k, v := range f.Fields {
		form[k] = v
	}
	for k, v := range values {
		form[k] = v
	}
	return ua.post(action.String(), form)
}

// signIn runs an authorization request in the plain user agent, signing in
// with the /login form when asked, and returns the redirect to the app
// (consent must not be needed: first-party clients).
func (ua *userAgent) signIn(authURL, login, password string) *url.URL {
	t := ua.t
	t.Helper()
	page := ua.get(authURL)
	if page.Status >= 300 && page.Status < 400 {
		return page.Location(t)
	}
	if page.Status != http.StatusOK || page.Final.Path != "/login" {
		t.Fatalf("authorization request ended at %s with status %d, want the /login form\n%.800s", page.Final, page.Status, page.Body)
	}
	f := findForm(t, page.Body, "password")
	res := ua.submit(page, f, url.Values{"username": {login}, "password": {password}})
	return res.Location(t)
}

// browserAccept is what Chromium sends for a navigation.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

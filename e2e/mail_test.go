package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// startMailServer starts gatehouse with an in-test SMTP server (STARTTLS,
// self-signed certificate).
func startMailServer(t *testing.T, db dbKind) (*server, *testutil.SMTPServer) {
	t.Helper()
	smtp := testutil.NewSMTPServer(t)
	srv := startServer(t, serverOpts{DB: db, Env: []string{
		"GATEHOUSE_SMTP_URL=" + smtp.URL(), "GATEHOUSE_SMTP_FROM=Gatehouse <id@example.com>"}})
	return srv, smtp
}

// agent is a plain HTTP user agent with cookies that fills forms.
type agent struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newAgent(t *testing.T, srv *server) *agent {
	jar, _ := cookiejar.New(nil)
	return &agent{t: t, base: srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type webPage struct {
	Status int
	Path   string
	Body   string
}

func (a *agent) do(req *http.Request) webPage {
	a.t.Helper()
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webPage{Status: resp.StatusCode, Path: resp.Request.URL.RequestURI(), Body: string(b)}
}

func (a *agent) get(u string) webPage {
	a.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = a.base + u
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return a.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// submit posts form to path with the CSRF token of the webPage from.
func (a *agent) submit(from webPage, path string, form url.Values) webPage {
	a.t.Helper()
	m := csrfField.FindStringSubmatch(from.Body)
	if m == nil {
		a.t.Fatalf("no csrf_token on %s:\n%s", from.Path, from.Body)
	}
	form.Set("csrf_token", m[1])
	req, _ := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.base)
	return a.do(req)
}

func (a *agent) signIn(login, password string) webPage {
	a.t.Helper()
	return a.submit(a.get("/login"), "/login", url.Values{"username": {login}, "password": {password}})
}

var mailLink = regexp.MustCompile(`http://localhost:\d+/(?:password/reset|email/verify)\?token=[A-Za-z0-9_-]+`)

func linkIn(t *testing.T, m testutil.Mail) string {
	t.Helper()
	l := mailLink.FindString(m.Body)
	if l == "" {
		t.Fatalf("no link in the mail to %s:\n%s", m.To, m.Body)
	}
	return l
}

// TestResetPassword: "Forgot password?" answers the same webPage for an
// account and for an unknown address, mails only the account; its link sets
// a new password once; the old password stops working.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv, smtp := startMailServer(t, db)
		createUser(t, srv, "alice@example.com", "the old passphrase of alice")
		a := newAgent(t, srv)
		login := a.get("/login")
		if !strings.Contains(login.Body, `href="/password/forgot">Forgot password?</a>`) {
			t.Fatalf("/login lacks Forgot password?:\n%s", login.Body)
		}
		forgot := a.get("/password/forgot")
		if !strings.Contains(forgot.Body, ">Email</label>") || !strings.Contains(forgot.Body, ">Send reset link</button>") {
			t.Fatalf("forgot webPage:\n%s", forgot.Body)
		}
		unknown := a.submit(forgot, "/password/forgot", url.Values{"email": {"nobody@example.com"}})
		known := a.submit(forgot, "/password/forgot", url.Values{"email": {"alice@example.com"}})
		norm := func(p webPage, email string) string {
			return csrfField.ReplaceAllString(strings.ReplaceAll(p.Body, email, "EMAIL"), "")
		}
		if unknown.Status != 200 || known.Status != 200 || norm(unknown, "nobody@example.com") != norm(known, "alice@example.com") {
			t.Fatalf("answers differ: %d %d\n%s\n---\n%s", unknown.Status, known.Status, unknown.Body, known.Body)
		}
		smtp.WaitFor(1, 15*time.Second)
		time.Sleep(1500 * time.Millisecond) // the worker polls every second: a second mail would be here by now
		mails := smtp.Mails()
		if len(mails) != 1 || mails[0].To != "alice@example.com" {
			t.Fatalf("mails: %+v", mails)
		}
		link := linkIn(t, mails[0])

		set := a.get(link)
		if set.Status != 200 || !strings.Contains(set.Body, ">New password</label>") || !strings.Contains(set.Body, ">Set password</button>") {
			t.Fatalf("link webPage %d:\n%s", set.Status, set.Body)
		}
		token := strings.SplitN(link, "token=", 2)[1]
		done := a.submit(set, "/password/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}})
		if done.Path != "/login?notice=password-set" || !strings.Contains(done.Body, "Your password is set") {
			t.Fatalf("after Set password: %s %d\n%s", done.Path, done.Status, done.Body)
		}
		if p := newAgent(t, srv).signIn("alice@example.com", "the old passphrase of alice"); p.Status != http.StatusUnauthorized {
			t.Errorf("old password: %d %s", p.Status, p.Path)
		}
		if p := newAgent(t, srv).signIn("alice@example.com", "a brand new passphrase"); p.Status != 200 || p.Path != "/account" {
			t.Errorf("new password: %d %s", p.Status, p.Path)
		}
		again := newAgent(t, srv).get(link)
		if again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "invalid, expired or already used") {
			t.Errorf("reused link: %d\n%s", again.Status, again.Body)
		}
		// A security notice follows the change.
		notice := smtp.WaitFor(2, 15*time.Second)[1]
		if notice.To != "alice@example.com" || !strings.Contains(notice.Body, "password of your account was changed") {
			t.Errorf("notice: %+v", notice)
		}
	})
}

// TestInviteViaCLI: `users invite` prints the id and mails a link that sets
// the first password and verifies the address.
func TestInviteViaCLI(t *testing.T) {
	t.Parallel()
	srv, smtp := startMailServer(t, sqliteDB)
	id := mustCLI(t, srv, "", "users", "invite", "--email", "bob@example.com", "--name", "Bob", "--role", "auditor")
	if id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("users invite printed %q", id)
	}
	m := smtp.WaitFor(1, 15*time.Second)[0]
	if m.To != "bob@example.com" || !strings.Contains(m.Subject, "invited") {
		t.Fatalf("invitation: %+v", m)
	}
	a := newAgent(t, srv)
	link := linkIn(t, m)
	set := a.get(link)
	if !strings.Contains(set.Body, "Set your password") {
		t.Fatalf("invite webPage:\n%s", set.Body)
	}
	token := strings.SplitN(link, "token=", 2)[1]
	done := a.submit(set, "/password/reset", url.Values{"token": {token}, "password": {"bob picks a passphrase"}})
	if done.Path != "/login?notice=password-set" {
		t.Fatalf("after Set password: %s\n%s", done.Path, done.Body)
	}
	if p := a.signIn("bob@example.com", "bob picks a passphrase"); p.Path != "/account" {
		t.Fatalf("sign in: %d %s", p.Status, p.Path)
	}
	var u map[string]any
	api(srv, srv.AdminKey(t)).get(t, "/users/"+id).expect(t, 200).decode(t, &u)
	if u["email_verified"] != true {
		t.Errorf("email_verified after the invitation: %v", u["email_verified"])
	}
	if again := newAgent(t, srv).get(link); again.Status != http.StatusBadRequest {
		t.Errorf("reused invitation: %d", again.Status)
	}
	// Inviting someone who has a password fails with one line.
	if res := runCLI(t, srv, "", "users", "invite", "--email", "bob@example.com"); res.Code == 0 || strings.Count(strings.TrimSpace(res.Stderr), "\n") != 0 {
		t.Errorf("re-invite with a password: %+v", res)
	}
}

// TestVerifyOwnEmailChange: a user's own email change through the API takes
// effect only when the link mailed to the new address is used; the old
// address gets a notice.
func TestVerifyOwnEmailChange(t *testing.T) {
	t.Parallel()
	srv, smtp := startMailServer(t, sqliteDB)
	id := createUser(t, srv, "carol@example.com", "carol's first passphrase")
	key := createAPIKey(t, srv, "carol@example.com", "own")
	var u map[string]any
	api(srv, key).do(t, http.MethodPatch, "/users/"+id, map[string]any{
		"email": "carol@new.example.com", "current_password": "carol's first passphrase"}).expect(t, 200).decode(t, &u)
	if u["email"] != "carol@example.com" {
		t.Fatalf("changed before the link was used: %v", u["email"])
	}
	// Three mails: the notice of carol's new API key, then the link to the
	// new address and the notice to the old one.
	mails := smtp.WaitFor(3, 15*time.Second)
	var link string
	notices := 0
	for _, m := range mails {
		switch {
		case m.To == "carol@new.example.com":
			link = linkIn(t, m)
		case m.To == "carol@example.com" && strings.Contains(m.Body, `A new API key named "own"`):
		case m.To == "carol@example.com":
			notices++
			if !strings.Contains(m.Body, "carol@new.example.com") {
				t.Errorf("notice to the old address: %s", m.Body)
			}
		default:
			t.Errorf("mail to %s", m.To)
		}
	}
	if link == "" || notices != 1 {
		t.Fatalf("mails: %+v", mails)
	}
	a := newAgent(t, srv)
	confirm := a.get(link)
	if !strings.Contains(confirm.Body, ">Verify email</button>") {
		t.Fatalf("verify page %d:\n%s", confirm.Status, confirm.Body)
	}
	done := a.submit(confirm, "/email/verify", url.Values{"token": {strings.SplitN(link, "token=", 2)[1]}})
	if done.Status != 200 || !strings.Contains(done.Body, "is verified") {
		t.Fatalf("after Verify email: %d\n%s", done.Status, done.Body)
	}
	api(srv, srv.AdminKey(t)).get(t, "/users/"+id).expect(t, 200).decode(t, &u)
	if u["email"] != "carol@new.example.com" || u["email_verified"] != true {
		t.Errorf("after the link: %v %v", u["email"], u["email_verified"])
	}
	if again := newAgent(t, srv).get(link); again.Status != http.StatusBadRequest {
		t.Errorf("reused link: %d", again.Status)
	}
}

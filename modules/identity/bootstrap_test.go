package identity_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
)

func TestBootstrapAdmin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		if _, _, err := svc.BootstrapAdmin(ctx, "root@example.com", "password"); err == nil {
			t.Fatal("weak bootstrap password accepted")
		}
		// Several replicas starting at once: exactly one creates the admin.
		var wg sync.WaitGroup
		created := make([]bool, 4)
		errs := make([]error, 4)
		for i := range created {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, created[i], errs[i] = svc.BootstrapAdmin(ctx, "Root@Example.com", goodPassword)
			}()
		}
		wg.Wait()
		n := 0
		for i := range created {
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
			if created[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d replicas created the admin", n)
		}
		u, err := svc.VerifyPassword(ctx, "root@example.com", goodPassword)
		if err != nil || !u.HasRole("admin") {
			t.Fatalf("bootstrap admin: %+v %v", u, err)
		}
		// With an admin, no setup link is made.
		if tok, ok, err := svc.CreateSetupToken(ctx); err != nil || ok || tok != "" {
			t.Fatalf("setup token with an admin: %q %v %v", tok, ok, err)
		}
	})
}

func TestBootstrapPromotesExistingUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		old := mustCreate(t, svc, identity.NewUser{Email: "ops@example.com"})
		if _, err := svc.DisableUser(ctx, old.ID); err != nil {
			t.Fatal(err)
		}
		u, created, err := svc.BootstrapAdmin(ctx, "OPS@example.com", goodPassword)
		if err != nil || !created || u.ID != old.ID || !u.Active() || !u.HasRole("admin") {
			t.Fatalf("promote: %+v %v %v", u, created, err)
		}
		if _, err := svc.VerifyPassword(ctx, "ops@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
	})
}

// setupClient is a browser-like client with cookies.
func setupClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, html.UnescapeString(string(b))
}

func TestSetupPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		f := newAPIFixture(t, db)
		// The fixture made an admin; start from a database without one.
		if err := db.Gorm.Exec("DELETE FROM identity_user_roles WHERE role_name = 'admin'").Error; err != nil {
			t.Fatal(err)
		}
		ctx := sysCtx()
		token, ok, err := f.svc.CreateSetupToken(ctx)
		if err != nil || !ok || len(token) < 40 {
			t.Fatalf("token %q %v %v", token, ok, err)
		}
		var stored string
		db.Gorm.Table("identity_setup_tokens").Pluck("token_hash", &stored)
		if stored == token || len(stored) != 64 {
			t.Fatalf("token stored as %q", stored)
		}
		c := setupClient(t)
		base := f.srv.URL + "/setup"

		status, body := get(t, c, base+"?token=wrong")
		if status != http.StatusBadRequest || !strings.Contains(body, "invalid, expired or already used") {
			t.Fatalf("wrong token: %d %s", status, body)
		}
		status, body = get(t, c, base+"?token="+url.QueryEscape(token))
		if status != 200 {
			t.Fatalf("form: %d %s", status, body)
		}
		for _, want := range []string{`<label for="email">Email</label>`, `<label for="name">Name</label>`, `<label for="password">Password</label>`, "Create admin"} {
			if !strings.Contains(body, want) {
				t.Fatalf("form lacks %s", want)
			}
		}
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no csrf token in form")
		}
		form := url.Values{"csrf_token": {m[1]}, "token": {token}, "email": {"first@example.com"}, "name": {"First"}, "password": {"password1"}}

		// Without the CSRF token: refused, nothing created.
		noCSRF := url.Values{"token": {token}, "email": {"first@example.com"}, "password": {goodPassword}}
		if status, _ := post(t, c, base, noCSRF); status != http.StatusForbidden {
			t.Fatalf("post without csrf: %d", status)
		}
		// A weak password shows the form again with the reason.
		status, body = post(t, c, base, form)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "Password is too common") || !strings.Contains(body, `value="first@example.com"`) {
			t.Fatalf("weak password: %d %s", status, body)
		}
		form.Set("password", goodPassword)
		status, body = post(t, c, base, form)
		if status != 200 || !strings.Contains(body, "Administrator first@example.com created") {
			t.Fatalf("setup: %d %s", status, body)
		}
		u, err := f.svc.VerifyPassword(ctx, "first@example.com", goodPassword)
		if err != nil || !u.HasRole("admin") || u.Name != "First" {
			t.Fatalf("admin: %+v %v", u, err)
		}
		// The token is burned; setup is over.
		var left int64
		db.Gorm.Table("identity_setup_tokens").Count(&left)
		if left != 0 {
			t.Fatalf("%d setup tokens left", left)
		}
		form.Set("email", "second@example.com")
		status, body = post(t, c, base, form)
		if status != http.StatusGone || !strings.Contains(body, "already complete") {
			t.Fatalf("second use: %d %s", status, body)
		}
		if _, err := f.svc.UserByEmail(ctx, "second@example.com"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("second admin created: %v", err)
		}
		status, _ = get(t, c, base+"?token="+url.QueryEscape(token))
		if status != http.StatusGone {
			t.Fatalf("get after setup: %d", status)
		}
	})
}

func TestSetupTokenExpires(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(testutil.NewClock(timeZero()).Now())
		svc := identity.New(db, identity.Deps{Audit: nil}, identity.Options{Argon2: fastArgon, Now: clock.Now})
		ctx := context.Background()
		token, ok, err := svc.CreateSetupToken(ctx)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := svc.CheckSetupToken(ctx, token); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
		clock.Advance(24*3600e9 + 1e9)
		if err := svc.CheckSetupToken(ctx, token); !errors.Is(err, identity.ErrSetupToken) {
			t.Fatalf("expired token: %v", err)
		}
		if _, err := svc.CompleteSetup(ctx, token, identity.NewUser{Email: "late@example.com", Password: goodPassword}); !errors.Is(err, identity.ErrSetupToken) {
			t.Fatalf("complete with expired token: %v", err)
		}
	})
}

package signin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// fakePasswords records SetPassword and refuses short passwords as
// identity's policy does.
type fakePasswords struct {
	mu  sync.Mutex
	set map[string]string
}

func (f *fakePasswords) SetPassword(_ context.Context, id, pw string) error {
	if len(pw) < 8 {
		return &validation.Error{Field: "password", Message: "must be at least 8 characters long"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set[id] = pw
	return nil
}

// fakeKeys is an in-memory signin.APIKeys.
type fakeKeys struct {
	mu      sync.Mutex
	keys    map[string]APIKey
	owner   map[string]string
	revoked map[string]bool
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]APIKey{}, owner: map[string]string{}, revoked: map[string]bool{}}
}

func (f *fakeKeys) CreateKey(_ context.Context, userID, name string) (APIKey, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "key-" + name
	k := APIKey{ID: id, Name: name, Prefix: "gh_" + name, CreatedAt: time.Now()}
	f.keys[id], f.owner[id] = k, userID
	return k, "gh_secret_" + name, nil
}

func (f *fakeKeys) ListKeys(_ context.Context, userID string) ([]APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []APIKey
	for id, k := range f.keys {
		if f.owner[id] == userID && !f.revoked[id] {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeKeys) RevokeKey(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[id] = true
	return nil
}

func TestAccountChangePassword(t *testing.T) {
	pw := &fakePasswords{set: map[string]string{}}
	e := newPagesTestEnv(t, func(c *Config) { c.Passwords = pw })
	e.users.Add(identity.User{ID: aliceID, Email: "alice@example.com", Username: "alice", HasPassword: true}, alicePassword)
	b := e.browser()
	b.signIn("")
	acct := b.get("/account")
	for _, want := range []string{`for="current-password">Current password<`, `for="new-password">New password<`} {
		if !strings.Contains(acct.body, want) {
			t.Errorf("no %s on /account", want)
		}
	}
	if buttonNamed(acct.doc, "Change password") == nil {
		t.Fatal("no Change password button")
	}
	wrong := b.submit("/account", "/account/password", url.Values{"current_password": {"nope"}, "new_password": {"a brand new passphrase"}})
	if wrong.status != http.StatusBadRequest || !strings.Contains(wrong.body, errWrongPassword) || len(pw.set) != 0 {
		t.Fatalf("wrong current password: %d, set %v\n%.300s", wrong.status, pw.set, wrong.body)
	}
	if n := e.auditCount("user.password.change"); n != 1 {
		t.Errorf("failure audited %d times", n)
	}
	short := b.submit("/account", "/account/password", url.Values{"current_password": {alicePassword}, "new_password": {"short"}})
	if short.status != http.StatusBadRequest || !strings.Contains(short.body, "The new password must be at least 8 characters long.") {
		t.Fatalf("short password: %d\n%.300s", short.status, short.body)
	}
	ok := b.submit("/account", "/account/password", url.Values{"current_password": {alicePassword}, "new_password": {"a brand new passphrase"}})
	if ok.status != http.StatusSeeOther || pw.set[aliceID] != "a brand new passphrase" {
		t.Fatalf("change: %d, set %v", ok.status, pw.set)
	}
	if after := b.get(ok.resp.Header.Get("Location")); !strings.Contains(after.body, flashPasswordChanged) {
		t.Errorf("no success message:\n%.300s", after.body)
	}
}

func TestAccountWithoutPassword(t *testing.T) {
	pw := &fakePasswords{set: map[string]string{}}
	e := newPagesTestEnv(t, func(c *Config) { c.Passwords = pw })
	b := e.browser()
	b.signIn("") // the fake signs in with a password the user "has not": HasPassword is false
	acct := b.get("/account")
	if !strings.Contains(acct.body, "Your account has no password") || buttonNamed(acct.doc, "Change password") != nil {
		t.Fatalf("without a password:\n%s", acct.body)
	}
	if pg := b.submit("/account", "/account/password", url.Values{"current_password": {alicePassword}, "new_password": {"a brand new passphrase"}}); pg.status != http.StatusBadRequest || len(pw.set) != 0 {
		t.Fatalf("post without a password: %d", pg.status)
	}
}

func TestAccountAPIKeys(t *testing.T) {
	keys := newFakeKeys()
	e := newPagesTestEnv(t, func(c *Config) { c.APIKeys = keys })
	b := e.browser()
	b.signIn("")
	if acct := b.get("/account"); buttonNamed(acct.doc, "Create API key") == nil || !strings.Contains(acct.body, ">Key name<") {
		t.Fatalf("no API key form:\n%s", acct.body)
	}
	created := b.submit("/account", "/account/api-keys", url.Values{"name": {"ci"}})
	if created.status != http.StatusOK || !strings.Contains(created.body, "gh_secret_ci") || !strings.Contains(created.body, "will not be shown again") {
		t.Fatalf("create: %d\n%s", created.status, created.body)
	}
	acct := b.get("/account")
	if strings.Contains(acct.body, "gh_secret_ci") || !strings.Contains(acct.body, "gh_ci") || buttonNamed(acct.doc, "Revoke") == nil {
		t.Fatalf("list after create:\n%s", acct.body)
	}
	// Someone else's key is not found.
	keys.keys["key-other"], keys.owner["key-other"] = APIKey{ID: "key-other", Name: "other"}, "someone-else"
	if pg := b.submit("/account", "/account/api-keys/key-other/revoke", nil); pg.status != http.StatusNotFound || keys.revoked["key-other"] {
		t.Fatalf("revoke another's key: %d", pg.status)
	}
	if pg := b.submit("/account", "/account/api-keys/key-ci/revoke", nil); pg.status != http.StatusSeeOther || !keys.revoked["key-ci"] {
		t.Fatalf("revoke: %d", pg.status)
	}
	if acct := b.get("/account?flash=" + url.QueryEscape(flashKeyRevoked)); !strings.Contains(acct.body, flashKeyRevoked) || strings.Contains(acct.body, "gh_ci") {
		t.Fatalf("after revoke:\n%s", acct.body)
	}
}

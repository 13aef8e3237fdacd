// Package oidctest holds the one copy of the test helpers and fakes that
// the oidc packages' tests share (façade, clients, provider, signin). It is
// imported only by _test.go files.
package oidctest

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

// MasterKey is a fresh random 32-byte master key.
func MasterKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// SystemCtx carries the system principal (audited as actor "gatehouse").
func SystemCtx() context.Context {
	return principal.With(context.Background(), principal.SystemPrincipal)
}

// NoRedirect is an HTTP client that reports redirects instead of following.
// It keeps cookies like a browser, so /authorize binds the requests it
// starts to it (see BrowserCtx).
var NoRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
	Jar:           newJar(),
}

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

// BrowserCtx returns ctx carrying NoRedirect's auth-session cookie for
// serverURL, as the sign-in pages pass it to the provider: the browser that
// started a request through NoRedirect may then complete it.
func BrowserCtx(ctx context.Context, serverURL string) context.Context {
	u, _ := url.Parse(serverURL)
	for _, c := range NoRedirect.Jar.Cookies(u) {
		if c.Name == flow.BrowserCookie {
			return flow.WithBrowser(ctx, c.Value)
		}
	}
	return ctx
}

// PostForm posts form to u, with HTTP Basic client authentication when id
// is set (RFC 6749 §2.3.1: form-encoded id and secret), and returns the
// status and body.
func PostForm(t *testing.T, u, id, secret string, form url.Values) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Users is a hand-written user directory with identity's rules: one error
// for an unknown login and a wrong password; disabled only after a correct
// password; unknown ids are identity.ErrNotFound. It satisfies the
// provider's and the sign-in pages' interfaces (and so oidc.UserDirectory).
type Users struct {
	mu        sync.Mutex
	users     map[string]identity.User
	passwords map[string]string
	roles     map[string][]string
}

// NewUsers is an empty directory.
func NewUsers() *Users {
	return &Users{users: map[string]identity.User{}, passwords: map[string]string{}, roles: map[string][]string{}}
}

// Add stores u (active unless a status is set) with a password ("" for
// none) and roles, replacing any user with its id.
func (f *Users) Add(u identity.User, password string, roles ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.Status == "" {
		u.Status = identity.StatusActive
	}
	f.users[u.ID] = u
	f.passwords[u.ID] = password
	f.roles[u.ID] = roles
}

// SetStatus changes a user's status.
func (f *Users) SetStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[id]
	u.Status = status
	f.users[id] = u
}

// Remove deletes a user.
func (f *Users) Remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, id)
}

// VerifyPassword checks a login (email or username, any case) and password.
func (f *Users) VerifyPassword(_ context.Context, login, password string) (identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	login = strings.ToLower(login)
	for id, u := range f.users {
		if strings.ToLower(u.Email) == login || (u.Username != "" && strings.ToLower(u.Username) == login) {
			if f.passwords[id] == "" || f.passwords[id] != password {
				return identity.User{}, identity.ErrInvalidCredentials
			}
			if u.Status != identity.StatusActive {
				return identity.User{}, identity.ErrUserDisabled
			}
			return u, nil
		}
	}
	return identity.User{}, identity.ErrInvalidCredentials
}

// CheckCurrentPassword reports identity.ErrInvalidCredentials unless
// password is the user's.
func (f *Users) CheckCurrentPassword(_ context.Context, id, password string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.passwords[id] == "" || f.passwords[id] != password {
		return identity.ErrInvalidCredentials
	}
	return nil
}

// UserByLogin returns the user whose email or username is login (any
// case), or identity.ErrNotFound.
func (f *Users) UserByLogin(_ context.Context, login string) (identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	login = strings.ToLower(strings.TrimSpace(login))
	for _, u := range f.users {
		if strings.ToLower(u.Email) == login || (u.Username != "" && strings.ToLower(u.Username) == login) {
			return u, nil
		}
	}
	return identity.User{}, identity.ErrNotFound
}

// UserByID returns the user or identity.ErrNotFound.
func (f *Users) UserByID(_ context.Context, id string) (identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return identity.User{}, identity.ErrNotFound
	}
	return u, nil
}

// RolesOf returns the user's roles or identity.ErrNotFound.
func (f *Users) RolesOf(_ context.Context, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[id]; !ok {
		return nil, identity.ErrNotFound
	}
	return f.roles[id], nil
}

package admin

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/oidc"
	"github.com/gatehouse/gatehouse/modules/passkeys"
	"github.com/gatehouse/gatehouse/web"
)

// activityConsole is the console fixture with the real oidc module
// (sessions) and passkeys service as well.
type activityConsole struct {
	*console
	sessions *oidc.Module
	passkeys *passkeys.Service
	// stale: the caller's proof of identity is old, so Routes.Sensitive
	// stops the request (as the kernel's re-authentication does).
	stale bool
}

func newActivityConsole(t testing.TB, db database.DB) *activityConsole {
	t.Helper()
	c := newConsoleOn(t, db)
	pages, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := oidc.New(db, oidc.Deps{Users: c.ids, Audit: c.audit, Authorizer: c.az, Pages: pages},
		oidc.Options{Issuer: "https://id.example.com", MasterKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := passkeys.New(db, passkeys.Deps{Users: c.ids, Audit: c.audit}, passkeys.Options{RPOrigin: "https://id.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Deps{Users: c.ids, Roles: c.ids, Authorizer: c.az, Grants: c.az, Pages: pages,
		APIKeys: c.keys, Audit: c.audit, Sessions: sess, Passkeys: pk}, Options{})
	a := &activityConsole{console: c, sessions: sess, passkeys: pk}
	c.e = echo.New()
	g := c.e.Group("/admin", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			p := principal.Principal{Kind: principal.User, ID: c.as, Via: principal.ViaSession}
			ec.SetRequest(ec.Request().WithContext(principal.With(ec.Request().Context(), p)))
			return next(ec)
		}
	})
	m.Mount(module.Routes{Admin: g, Sensitive: func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			if a.stale {
				return ec.String(http.StatusUnauthorized, "Confirm it's you")
			}
			return next(ec)
		}
	}})
	return a
}

// signIn stores a live browser session for user, as a sign-in does (the
// table's row; the cookie value is never needed here), and returns its id.
func (a *activityConsole) signIn(userID, ip, agent string) string {
	a.t.Helper()
	id, now := uuid.Must(uuid.NewV7()).String(), time.Now().UTC().Truncate(time.Microsecond)
	err := a.db.Gorm.Exec(`INSERT INTO oidc_sessions (id, token_hash, user_id, created_at, last_seen_at, auth_time, amr, acr, ip, user_agent, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pwd', 'pwd', ?, ?, ?)`,
		id, "hash-"+id, userID, now, now, now, ip, agent, now.Add(24*time.Hour)).Error
	if err != nil {
		a.t.Fatal(err)
	}
	return id
}

// addPasskey stores a passkey for user, as a registration does.
func (a *activityConsole) addPasskey(userID, name string) string {
	a.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := a.db.Gorm.Exec(`INSERT INTO passkeys_credentials (id, user_id, credential_id, public_key, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, userID, "cred-"+id, []byte{1, 2, 3}, name, time.Now().UTC()).Error
	if err != nil {
		a.t.Fatal(err)
	}
	return id
}

func (a *activityConsole) liveSessions(userID string) []string {
	a.t.Helper()
	list, err := a.sessions.UserSessions(context.Background(), userID)
	if err != nil {
		a.t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func (a *activityConsole) countEvents(event string) int {
	a.t.Helper()
	n := 0
	for _, e := range a.events() {
		if e == event {
			n++
		}
	}
	return n
}

package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/web"
)

// console is the console over the real identity, authz, audit, apikeys and
// mail services (on SQLite unless newConsoleOn is given a database);
// requests are made as a chosen user.
type console struct {
	t       testing.TB
	e       *echo.Echo
	ids     *identity.Service
	az      *authz.Service
	audit   *audit.Service
	clients *clients.Service
	db      database.DB
	mail    *mail.Service
	keys    *apikeys.Service
	as      string // user id of the caller
}

func newConsole(t *testing.T) *console {
	t.Helper()
	return newConsoleOn(t, testutil.NewSQLite(t))
}

// newConsoleOn is newConsole on db (testutil.ForEachDB).
func newConsoleOn(t testing.TB, db database.DB) *console {
	t.Helper()
	return newConsoleMail(t, db, mail.Options{})
}

// newConsoleMail is newConsoleOn with the mail service's options (a
// Server: links are mailed, not shown).
func newConsoleMail(t testing.TB, db database.DB, mailOpts mail.Options) *console {
	t.Helper()
	ctx := context.Background()
	pages, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, e: echo.New(), db: db}
	c.audit = audit.New(db)
	// Mail without a server unless mailOpts names one; messages stay in
	// the outbox (testutil.Outbox) until DeliverDue.
	mailOpts.Issuer = "https://id.example.com"
	if c.mail, err = mail.New(db, mailOpts); err != nil {
		t.Fatal(err)
	}
	c.ids = identity.New(db, identity.Deps{Audit: c.audit, Mailer: c.mail}, identity.Options{Argon2: identity.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	c.az, err = authz.New(ctx, db, authz.Deps{Roles: c.ids, Audit: c.audit}, authz.Options{
		IsUnknownUser: func(err error) bool { return errors.Is(err, identity.ErrNotFound) },
	})

	if err != nil {
		t.Fatal(err)
	}
	c.ids.AddListener(c.az)
	c.ids.AddRoleListener(c.az)
	keys := apikeys.New(db, apikeys.Deps{Users: c.ids, Audit: c.audit}, apikeys.Options{})
	cls := clients.New(db, clients.Deps{Audit: c.audit}, clients.Options{})
	c.clients, c.keys = cls, keys
	sessions := func(context.Context) (int64, error) { return 3, nil }
	m := New(Deps{Users: c.ids, Roles: c.ids, Authorizer: c.az, Grants: c.az, Pages: pages,
		Policies: c.az, APIKeys: keys, Audit: c.audit, Clients: cls, Activity: c.audit,
		Counts: Counts{Users: c.ids.CountUsers, Sessions: sessions, Clients: cls.Count, APIKeys: keys.CountActive},
		Links:  c.ids, Mail: c.mail,
	}, Options{Issuer: "https://id.example.com"})
	g := c.e.Group("/admin", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			p := principal.Principal{Kind: principal.User, ID: c.as, Via: principal.ViaSession}
			ec.SetRequest(ec.Request().WithContext(principal.With(ec.Request().Context(), p)))
			return next(ec)
		}
	})
	m.Mount(module.Routes{Admin: g})
	return c
}

// user creates a user with roles and returns their id.
func (c *console) user(email, name string, roles ...string) string {
	c.t.Helper()
	ctx := principal.With(context.Background(), principal.SystemPrincipal)
	u, err := c.ids.CreateUser(ctx, identity.NewUser{Email: email, Name: name, Roles: roles})
	if err != nil {
		c.t.Fatalf("create %s: %v", email, err)
	}
	return u.ID
}

type resp struct {
	status   int
	body     string
	location string
}

func (c *console) get(path string) resp {
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (c *console) post(path string, form url.Values) resp {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	return c.do(req)
}

func (c *console) do(req *http.Request) resp {
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return resp{status: rec.Code, body: string(b), location: rec.Header().Get("Location")}
}

func (r resp) want(t *testing.T, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	for _, s := range contains {
		if !strings.Contains(r.body, s) {
			t.Errorf("body lacks %q:\n%s", s, r.body)
		}
	}
}

// events returns the actions recorded in the audit log.
func (c *console) events() []string {
	c.t.Helper()
	p, err := c.audit.List(context.Background(), audit.Filter{PageSize: 200})
	if err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, e := range p.Items {
		out = append(out, e.Action+" by "+e.Actor.ID)
	}
	return out
}

package apikeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
)

var start = time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)

// env is a real identity service, a real audit log and the apikeys service
// on one database, with a fake clock.
type env struct {
	db    database.DB
	clock *testutil.Clock
	users *identity.Service
	audit *audit.Service
	svc   *apikeys.Service
	ctx   context.Context
}

func newEnv(t testing.TB, db database.DB) *env {
	t.Helper()
	clock := testutil.NewClock(start)
	auditSvc := audit.New(db)
	users := identity.New(db, identity.Deps{Audit: auditSvc}, identity.Options{Now: clock.Now})
	// The real mail service queues notices in mail_outbox (nothing is
	// delivered: its worker does not run).
	mailer, err := mail.New(db, mail.Options{Issuer: "https://id.example.com", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := apikeys.New(db, apikeys.Deps{Users: users, Audit: auditSvc, Notifier: mailer}, apikeys.Options{Now: clock.Now})
	users.AddListener(svc)
	ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: "creator", Via: principal.ViaSession})
	return &env{db: db, clock: clock, users: users, audit: auditSvc, svc: svc, ctx: ctx}
}

func (e *env) user(t testing.TB, email string, machine bool) identity.User {
	t.Helper()
	u, err := e.users.CreateUser(context.Background(), identity.NewUser{Email: email, Name: "Test " + email, Machine: machine})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func (e *env) count(t testing.TB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := e.db.Gorm.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func mustCreate(t testing.TB, e *env, n apikeys.NewKey) apikeys.Created {
	t.Helper()
	c, err := e.svc.Create(e.ctx, n)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return c
}

func wantUnauthenticated(t *testing.T, e *env, token, why string) {
	t.Helper()
	p, err := e.svc.AuthenticateBearer(context.Background(), token)
	if !errors.Is(err, httpserver.ErrUnauthenticated) {
		t.Fatalf("%s: got %+v, %v; want ErrUnauthenticated", why, p, err)
	}
}

func TestCreateAndAuthenticate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)

		c := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "  ci  "})
		if !strings.HasPrefix(c.Secret, "gh_"+c.PublicID+"_") || len(c.Secret) != apikeys.KeyLen {
			t.Fatalf("secret %q does not carry public id %q", c.Secret, c.PublicID)
		}
		if c.Name != "ci" || c.UserID != alice.ID || c.Scopes != nil || c.CreatedBy != "creator" || !c.CreatedAt.Equal(start) || c.ExpiresAt != nil {
			t.Fatalf("created = %+v", c.Key)
		}
		// Only the hash is stored.
		var row struct{ SecretHash string }
		db.Gorm.Table("apikeys_keys").Select("secret_hash").Where("id = ?", c.ID).Take(&row)
		secretPart := c.Secret[len("gh_")+16+1 : len(c.Secret)-6]
		if len(row.SecretHash) != 64 || strings.Contains(row.SecretHash, secretPart) {
			t.Fatalf("stored hash %q", row.SecretHash)
		}
		if n := e.count(t, "audit_events", "action = ? AND target_id = ? AND actor_id = ?", "apikey.create", c.ID, "creator"); n != 1 {
			t.Fatalf("apikey.create events = %d", n)
		}

		p, err := e.svc.AuthenticateBearer(context.Background(), c.Secret)
		if err != nil {
			t.Fatal(err)
		}
		want := principal.Principal{Kind: principal.User, ID: alice.ID, Via: principal.ViaAPIKey, CredentialID: c.ID}
		if p.Kind != want.Kind || p.ID != want.ID || p.Via != want.Via || p.CredentialID != want.CredentialID || p.Scopes != nil {
			t.Fatalf("principal = %+v, want %+v", p, want)
		}

		got, err := e.svc.Get(context.Background(), c.ID)
		if err != nil || got.PublicID != c.PublicID || got.Name != "ci" {
			t.Fatalf("get = %+v, %v", got, err)
		}
		if _, err := e.svc.Get(context.Background(), "nope"); !errors.Is(err, apikeys.ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}
	})
}

func TestServiceAccountKeyIsServicePrincipal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		sa, err := e.svc.CreateServiceAccount(context.Background(), "deploy bot", "")
		if err != nil {
			t.Fatal(err)
		}
		if !sa.Machine || !strings.HasSuffix(sa.Email, "@"+apikeys.ServiceAccountDomain) || sa.Name != "deploy bot" {
			t.Fatalf("service account = %+v", sa)
		}
		c := mustCreate(t, e, apikeys.NewKey{UserID: sa.ID, Name: "deploy", Scopes: []string{"users:read", "api-keys:*", "users:read"}})
		if strings.Join(c.Scopes, " ") != "api-keys:* users:read" {
			t.Fatalf("scopes = %v", c.Scopes)
		}
		p, err := e.svc.AuthenticateBearer(context.Background(), c.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != principal.Service || p.ID != sa.ID || strings.Join(p.Scopes, " ") != "api-keys:* users:read" {
			t.Fatalf("principal = %+v", p)
		}
		// The principal's scopes are a copy: changing them does not change the cache.
		p.Scopes[0] = "*:*"
		p2, _ := e.svc.AuthenticateBearer(context.Background(), c.Secret)
		if p2.Scopes[0] != "api-keys:*" {
			t.Fatalf("cache shared its scopes slice: %v", p2.Scopes)
		}
	})
}

func TestAuthenticateRejects(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		bob := e.user(t, "bob@example.com", false)
		carol := e.user(t, "carol@example.com", false)
		good := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "good"})

		wantUnauthenticated(t, e, "", "empty")
		wantUnauthenticated(t, e, "gh_nonsense", "malformed")
		typo := []byte(good.Secret)
		typo[30] ^= 1 // '0'↔'1', 'A'↔'@'…: either way the checksum fails
		wantUnauthenticated(t, e, string(typo), "typo")

		// Well-formed keys that were never issued, and a known public id with
		// a wrong secret.
		fresh := apikeys.ParsedKey{PublicID: "AAAAAAAAAAAAAAAA", Secret: strings.Repeat("b", 43)}
		wantUnauthenticated(t, e, fresh.String(), "unknown")
		parsed, err := apikeys.ParseKey(good.Secret)
		if err != nil {
			t.Fatal(err)
		}
		wrong := apikeys.ParsedKey{PublicID: parsed.PublicID, Secret: strings.Repeat("b", 43)}
		wantUnauthenticated(t, e, wrong.String(), "wrong secret")
		if _, err := e.svc.AuthenticateBearer(context.Background(), good.Secret); err != nil {
			t.Fatalf("good key after failures: %v", err)
		}

		// Revoked: at once, although the key is cached.
		revoked := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "revoked"})
		if _, err := e.svc.AuthenticateBearer(context.Background(), revoked.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Revoke(e.ctx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		wantUnauthenticated(t, e, revoked.Secret, "revoked")

		// Expired.
		exp := start.Add(time.Hour)
		expiring := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "expiring", ExpiresAt: &exp})
		if _, err := e.svc.AuthenticateBearer(context.Background(), expiring.Secret); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		wantUnauthenticated(t, e, expiring.Secret, "expired")

		// Owner disabled: identity's listener drops the cached owner state.
		bobKey := mustCreate(t, e, apikeys.NewKey{UserID: bob.ID, Name: "bob"})
		if _, err := e.svc.AuthenticateBearer(context.Background(), bobKey.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := e.users.DisableUser(context.Background(), bob.ID); err != nil {
			t.Fatal(err)
		}
		wantUnauthenticated(t, e, bobKey.Secret, "owner disabled")
		if _, err := e.svc.Create(e.ctx, apikeys.NewKey{UserID: bob.ID, Name: "x"}); !errors.Is(err, apikeys.ErrOwnerDisabled) {
			t.Fatalf("create for disabled owner: %v", err)
		}

		// Owner deleted: the keys go in the same transaction.
		carolKey := mustCreate(t, e, apikeys.NewKey{UserID: carol.ID, Name: "carol"})
		if _, err := e.svc.AuthenticateBearer(context.Background(), carolKey.Secret); err != nil {
			t.Fatal(err)
		}
		if err := e.users.DeleteUser(context.Background(), carol.ID); err != nil {
			t.Fatal(err)
		}
		wantUnauthenticated(t, e, carolKey.Secret, "owner deleted")
		if n := e.count(t, "apikeys_keys", "user_id = ?", carol.ID); n != 0 {
			t.Fatalf("deleted owner's keys remain: %d", n)
		}
		if _, err := e.svc.AuthenticateBearer(context.Background(), good.Secret); err != nil {
			t.Fatalf("unrelated key: %v", err)
		}
	})
}

func TestCacheTTL(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		c := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "k"})
		if _, err := e.svc.AuthenticateBearer(context.Background(), c.Secret); err != nil {
			t.Fatal(err)
		}
		// A revocation this process did not make (another replica) is seen
		// once the cache entry is older than the TTL, not before.
		if err := db.Gorm.Exec("UPDATE apikeys_keys SET revoked_at = ? WHERE id = ?", start, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AuthenticateBearer(context.Background(), c.Secret); err != nil {
			t.Fatalf("cached entry not used: %v", err)
		}
		e.clock.Advance(31 * time.Second)
		wantUnauthenticated(t, e, c.Secret, "revoked elsewhere, after TTL")
	})
}

func TestCreateValidation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		past := start.Add(-time.Minute)
		tests := []struct {
			name  string
			n     apikeys.NewKey
			field string
			is    error
		}{
			{name: "empty name", n: apikeys.NewKey{UserID: alice.ID, Name: "  "}, field: "name"},
			{name: "long name", n: apikeys.NewKey{UserID: alice.ID, Name: strings.Repeat("x", 101)}, field: "name"},
			{name: "control char", n: apikeys.NewKey{UserID: alice.ID, Name: "a\x00b"}, field: "name"},
			{name: "bad scope form", n: apikeys.NewKey{UserID: alice.ID, Name: "k", Scopes: []string{"users"}}, field: "scopes"},
			{name: "unknown type", n: apikeys.NewKey{UserID: alice.ID, Name: "k", Scopes: []string{"user:read"}}, field: "scopes"},
			{name: "unknown action", n: apikeys.NewKey{UserID: alice.ID, Name: "k", Scopes: []string{"users:raed"}}, field: "scopes"},
			{name: "expired at creation", n: apikeys.NewKey{UserID: alice.ID, Name: "k", ExpiresAt: &past}, field: "expires_at"},
			{name: "unknown owner", n: apikeys.NewKey{UserID: "no-such-user", Name: "k"}, is: apikeys.ErrOwnerNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.Create(e.ctx, tt.n)
				var ve *validation.Error
				switch {
				case tt.is != nil && !errors.Is(err, tt.is):
					t.Fatalf("err = %v, want %v", err, tt.is)
				case tt.field != "" && (!errors.As(err, &ve) || ve.Field != tt.field):
					t.Fatalf("err = %v, want a ValidationError on %s", err, tt.field)
				}
			})
		}
		if n := e.count(t, "apikeys_keys", ""); n != 0 {
			t.Fatalf("%d keys created by invalid input", n)
		}
		if n := e.count(t, "audit_events", "action = ?", "apikey.create"); n != 0 {
			t.Fatalf("%d events for invalid input", n)
		}
	})
}

func TestScopedCallerCannotEscalate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		scoped := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: alice.ID, Via: principal.ViaAPIKey, Scopes: []string{"api-keys:*", "openid"}})

		if _, err := e.svc.Create(scoped, apikeys.NewKey{UserID: alice.ID, Name: "k", Scopes: []string{"users:read"}}); !errors.Is(err, apikeys.ErrScopeEscalation) {
			t.Fatalf("wider scope: %v", err)
		}
		if _, err := e.svc.Create(scoped, apikeys.NewKey{UserID: alice.ID, Name: "k", Scopes: []string{"*:read"}}); !errors.Is(err, apikeys.ErrScopeEscalation) {
			t.Fatalf("wildcard type: %v", err)
		}
		c, err := e.svc.Create(scoped, apikeys.NewKey{UserID: alice.ID, Name: "inherit"})
		if err != nil || strings.Join(c.Scopes, " ") != "api-keys:*" {
			t.Fatalf("inherited = %v, %v", c.Scopes, err)
		}
		c, err = e.svc.Create(scoped, apikeys.NewKey{UserID: alice.ID, Name: "narrow", Scopes: []string{"api-keys:read"}})
		if err != nil || strings.Join(c.Scopes, " ") != "api-keys:read" {
			t.Fatalf("narrower = %v, %v", c.Scopes, err)
		}
		none := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: alice.ID, Scopes: []string{}})
		if _, err := e.svc.Create(none, apikeys.NewKey{UserID: alice.ID, Name: "k"}); !errors.Is(err, apikeys.ErrScopeEscalation) {
			t.Fatalf("caller without scopes: %v", err)
		}
	})
}

func TestRevoke(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		c := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "k"})
		e.clock.Advance(time.Minute)
		k, err := e.svc.Revoke(e.ctx, c.ID)
		if err != nil || k.RevokedAt == nil || !k.RevokedAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("revoke = %+v, %v", k, err)
		}
		e.clock.Advance(time.Minute)
		k, err = e.svc.Revoke(e.ctx, c.ID)
		if err != nil || !k.RevokedAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("second revoke = %+v, %v", k, err)
		}
		if n := e.count(t, "audit_events", "action = ? AND target_id = ?", "apikey.revoke", c.ID); n != 1 {
			t.Fatalf("apikey.revoke events = %d", n)
		}
		if _, err := e.svc.Revoke(e.ctx, "unknown"); !errors.Is(err, apikeys.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
	})
}

// failingAudit makes every Record fail, to show the key is not kept when
// its audit event cannot be written.
type failingAudit struct{}

func (failingAudit) Record(context.Context, audit.Event) error { return errors.New("audit down") }

func TestCreateRollsBackWithoutAudit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		svc := apikeys.New(db, apikeys.Deps{Users: e.users, Audit: failingAudit{}}, apikeys.Options{Now: e.clock.Now})
		if _, err := svc.Create(e.ctx, apikeys.NewKey{UserID: alice.ID, Name: "k"}); err == nil {
			t.Fatal("create succeeded without its audit event")
		}
		if n := e.count(t, "apikeys_keys", ""); n != 0 {
			t.Fatalf("key persisted without audit event: %d", n)
		}
	})
}

func TestList(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		bob := e.user(t, "bob@example.com", false)
		var ids []string
		for i := 0; i < 5; i++ {
			ids = append(ids, mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "k"}).ID)
		}
		mustCreate(t, e, apikeys.NewKey{UserID: bob.ID, Name: "bob"})
		if _, err := e.svc.Revoke(e.ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		collect := func(f apikeys.Filter) []string {
			var got []string
			for i := 0; i < 10; i++ {
				p, err := e.svc.List(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range p.Items {
					if k.UserID != alice.ID {
						t.Fatalf("listed another user's key %+v", k)
					}
					got = append(got, k.ID)
				}
				if p.NextPageToken == "" {
					return got
				}
				f.PageToken = p.NextPageToken
			}
			t.Fatal("pagination does not end")
			return nil
		}
		want := strings.Join([]string{ids[4], ids[3], ids[1], ids[0]}, ",")
		if got := strings.Join(collect(apikeys.Filter{UserID: alice.ID, PageSize: 2}), ","); got != want {
			t.Fatalf("active keys %s, want %s", got, want)
		}
		want = strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, ",")
		if got := strings.Join(collect(apikeys.Filter{UserID: alice.ID, PageSize: 3, IncludeRevoked: true}), ","); got != want {
			t.Fatalf("all keys %s, want %s", got, want)
		}
		if _, err := e.svc.List(context.Background(), apikeys.Filter{UserID: alice.ID, PageToken: "***"}); !errors.Is(err, page.ErrBadToken) {
			t.Fatalf("bad token: %v", err)
		}
		if _, err := e.svc.List(context.Background(), apikeys.Filter{UserID: alice.ID, PageSize: 201}); !errors.Is(err, page.ErrBadSize) {
			t.Fatalf("bad size: %v", err)
		}
	})
}

func TestLastUsedIsWrittenInBatches(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		k1 := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "k1"})
		k2 := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "k2"})
		for i := 0; i < 3; i++ {
			e.clock.Advance(time.Second)
			if _, err := e.svc.AuthenticateBearer(context.Background(), k1.Secret); err != nil {
				t.Fatal(err)
			}
		}
		lastK1 := e.clock.Now()
		k, _ := e.svc.Get(context.Background(), k1.ID)
		if k.LastUsedAt != nil {
			t.Fatalf("last use written per request: %v", k.LastUsedAt)
		}
		if err := e.svc.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		k, _ = e.svc.Get(context.Background(), k1.ID)
		if k.LastUsedAt == nil || !k.LastUsedAt.Equal(lastK1) {
			t.Fatalf("k1 last used %v, want %v", k.LastUsedAt, lastK1)
		}
		if k, _ := e.svc.Get(context.Background(), k2.ID); k.LastUsedAt != nil {
			t.Fatalf("unused key has last use %v", k.LastUsedAt)
		}

		// Run flushes when its context ends.
		e.clock.Advance(time.Minute)
		if _, err := e.svc.AuthenticateBearer(context.Background(), k2.Secret); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.svc.Run(ctx) }()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		k, _ = e.svc.Get(context.Background(), k2.ID)
		if k.LastUsedAt == nil || !k.LastUsedAt.Equal(e.clock.Now()) {
			t.Fatalf("k2 last used %v after shutdown flush", k.LastUsedAt)
		}
	})
}

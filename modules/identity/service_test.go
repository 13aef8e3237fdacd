package identity_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// fastArgon keeps tests quick; the default parameters are benchmarked.
var fastArgon = identity.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const goodPassword = "correct horse battery staple"

// recordingListener remembers listener calls and can fail on demand.
type recordingListener struct {
	mu      sync.Mutex
	changed []string
	deleted []string
	fail    error
}

func (l *recordingListener) UserChanged(ctx context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !database.InTx(ctx) {
		return errors.New("listener called outside a transaction")
	}
	l.changed = append(l.changed, id)
	return l.fail
}

func (l *recordingListener) UserDeleted(ctx context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !database.InTx(ctx) {
		return errors.New("listener called outside a transaction")
	}
	l.deleted = append(l.deleted, id)
	return l.fail
}

func newService(t testing.TB, db database.DB) (*identity.Service, *recordingListener) {
	t.Helper()
	svc := identity.New(db, identity.Deps{Audit: audit.New(db)}, identity.Options{Argon2: fastArgon})
	l := &recordingListener{}
	svc.AddListener(l)
	return svc, l
}

func sysCtx() context.Context {
	return principal.With(context.Background(), principal.SystemPrincipal)
}

func auditActions(t *testing.T, db database.DB) []string {
	t.Helper()
	var actions []string
	if err := db.Gorm.Table("audit_events").Order("time, id").Pluck("action", &actions).Error; err != nil {
		t.Fatal(err)
	}
	return actions
}

func mustCreate(t testing.TB, svc *identity.Service, in identity.NewUser) identity.User {
	t.Helper()
	u, err := svc.CreateUser(sysCtx(), in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Email, err)
	}
	return u
}

func TestCreateAndLookUpUsers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		u := mustCreate(t, svc, identity.NewUser{Email: " Alice@Example.COM ", Name: "Alice", Username: "Alice.W", Password: goodPassword, Roles: []string{"auditor", "auditor"}})
		if u.ID == "" || u.Email != "Alice@Example.COM" || u.Username != "alice.w" || u.Status != identity.StatusActive || !u.HasPassword {
			t.Fatalf("created %+v", u)
		}
		if strings.Join(u.Roles, ",") != "auditor" {
			t.Fatalf("roles %v", u.Roles)
		}
		for _, login := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "alice.w", "Alice.W"} {
			got, err := svc.UserByLogin(ctx, login)
			if err != nil || got.ID != u.ID {
				t.Fatalf("UserByLogin(%q) = %v, %v", login, got.ID, err)
			}
		}
		if got, err := svc.UserByEmail(ctx, "ALICE@example.com"); err != nil || got.ID != u.ID || got.Roles[0] != "auditor" {
			t.Fatalf("UserByEmail = %+v, %v", got, err)
		}
		if _, err := svc.UserByID(ctx, "nope"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if _, err := svc.UserByLogin(ctx, "bob"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("unknown login: %v", err)
		}
		if _, err := svc.CreateUser(ctx, identity.NewUser{Email: "alice@EXAMPLE.com"}); !errors.Is(err, identity.ErrEmailTaken) {
			t.Fatalf("duplicate email: %v", err)
		}
		if _, err := svc.CreateUser(ctx, identity.NewUser{Email: "other@example.com", Username: "ALICE.W"}); !errors.Is(err, identity.ErrUsernameTaken) {
			t.Fatalf("duplicate username: %v", err)
		}
		if _, err := svc.CreateUser(ctx, identity.NewUser{Email: "r@example.com", Roles: []string{"nope"}}); !errors.Is(err, identity.ErrRoleNotFound) {
			t.Fatalf("unknown role: %v", err)
		}
		var ve *validation.Error
		for _, bad := range []identity.NewUser{
			{Email: "not an email"},
			{Email: "Bob <bob@example.com>"},
			{Email: strings.Repeat("a", 250) + "@example.com"},
			{Email: "ok@example.com", Name: strings.Repeat("n", 201)},
			{Email: "ok@example.com", Username: "has space"},
			{Email: "ok@example.com", Username: "a@b"},
			{Email: "ok@example.com", Password: "password1"},
			{Email: "ok@example.com", Password: "short"},
			{Email: "ok@example.com", Machine: true, Password: goodPassword},
			{Email: "ok@example.com", Roles: []string{"Bad Role"}},
		} {
			if _, err := svc.CreateUser(ctx, bad); !errors.As(err, &ve) {
				t.Fatalf("CreateUser(%+v) = %v, want ValidationError", bad, err)
			}
		}
		// A failed create leaves nothing behind.
		var n int64
		db.Gorm.Table("identity_users").Count(&n)
		if n != 1 {
			t.Fatalf("%d users after failed creates", n)
		}
		m := mustCreate(t, svc, identity.NewUser{Email: "robot@example.com", Machine: true})
		if !m.Machine || m.HasPassword {
			t.Fatalf("machine user %+v", m)
		}
		if err := svc.SetPassword(ctx, m.ID, goodPassword); !errors.Is(err, identity.ErrMachinePassword) {
			t.Fatalf("machine password: %v", err)
		}
		if got := auditActions(t, db); strings.Join(got, ",") != "user.create,user.create" {
			t.Fatalf("audit %v", got)
		}
	})
}

func TestVerifyPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		u := mustCreate(t, svc, identity.NewUser{Email: "v@example.com", Username: "vee", Password: goodPassword})
		mustCreate(t, svc, identity.NewUser{Email: "nopw@example.com"})

		got, err := svc.VerifyPassword(ctx, "VEE", goodPassword)
		if err != nil || got.ID != u.ID || got.LastSignInAt == nil {
			t.Fatalf("verify = %+v, %v", got, err)
		}
		if again, _ := svc.UserByID(ctx, u.ID); again.LastSignInAt == nil {
			t.Fatal("last sign-in not stored")
		}
		for _, c := range []struct{ login, pw string }{
			{"v@example.com", "wrong password!"},
			{"ghost@example.com", goodPassword},
			{"nopw@example.com", ""},
			{"nopw@example.com", goodPassword},
			{"", ""},
		} {
			if _, err := svc.VerifyPassword(ctx, c.login, c.pw); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("verify(%q, %q) = %v", c.login, c.pw, err)
			}
		}
		if _, err := svc.DisableUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VerifyPassword(ctx, "v@example.com", "wrong password!"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("disabled + wrong password: %v", err)
		}
		if _, err := svc.VerifyPassword(ctx, "v@example.com", goodPassword); !errors.Is(err, identity.ErrUserDisabled) {
			t.Fatalf("disabled + right password: %v", err)
		}
	})
}

func TestPasswordRehashOnSignIn(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		weak := identity.New(db, identity.Deps{Audit: nil}, identity.Options{Argon2: identity.Argon2Params{MemoryKiB: 32, Time: 1, Threads: 1}})
		u, err := weak.CreateUser(sysCtx(), identity.NewUser{Email: "r@example.com", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		hashOf := func() string {
			var h string
			db.Gorm.Table("identity_users").Where("id = ?", u.ID).Pluck("password_hash", &h)
			return h
		}
		if h := hashOf(); !strings.HasPrefix(h, "$argon2id$v=19$m=32,t=1,p=1$") {
			t.Fatalf("stored %q", h)
		}
		strong, _ := newService(t, db)
		if _, err := strong.VerifyPassword(sysCtx(), "r@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
		if h := hashOf(); !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("not upgraded: %q", h)
		}
		if _, err := strong.VerifyPassword(sysCtx(), "r@example.com", goodPassword); err != nil {
			t.Fatalf("upgraded hash does not verify: %v", err)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, l := newService(t, db)
		ctx := sysCtx()
		u := mustCreate(t, svc, identity.NewUser{Email: "u@example.com", Name: "U", EmailVerified: true})
		mustCreate(t, svc, identity.NewUser{Email: "taken@example.com", Username: "taken"})

		str := func(s string) *string { return &s }
		got, err := svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Name: str("New Name"), Username: str("New-User"), Email: str("U2@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "New Name" || got.Username != "new-user" || got.Email != "U2@example.com" || got.EmailVerified {
			t.Fatalf("updated %+v", got)
		}
		if !got.UpdatedAt.After(u.UpdatedAt) && !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("updated_at went back")
		}
		if _, err := svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Email: str("TAKEN@example.com")}); !errors.Is(err, identity.ErrEmailTaken) {
			t.Fatalf("email taken: %v", err)
		}
		if _, err := svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Username: str("taken")}); !errors.Is(err, identity.ErrUsernameTaken) {
			t.Fatalf("username taken: %v", err)
		}
		if _, err := svc.UpdateUser(ctx, "missing", identity.UserUpdate{Name: str("x")}); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		if _, err := svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Status: str("gone")}); err == nil {
			t.Fatal("bad status accepted")
		}
		got, err = svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Username: str("")})
		if err != nil || got.Username != "" {
			t.Fatalf("clear username: %+v %v", got, err)
		}
		if len(l.changed) != 0 {
			t.Fatalf("profile edits notified listeners: %v", l.changed)
		}
		if err := svc.SetPassword(ctx, u.ID, goodPassword); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPassword(ctx, u.ID, "u2@example.com"); err == nil {
			t.Fatal("password equal to the email accepted")
		}
		if err := svc.SetPassword(ctx, "missing", goodPassword); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("password of unknown user: %v", err)
		}
		if len(l.changed) != 1 || l.changed[0] != u.ID {
			t.Fatalf("password change not notified: %v", l.changed)
		}
		l.changed = nil
		if got, err = svc.DisableUser(ctx, u.ID); err != nil || got.Status != identity.StatusDisabled {
			t.Fatalf("disable: %+v %v", got, err)
		}
		if len(l.changed) != 1 || l.changed[0] != u.ID {
			t.Fatalf("listener %v", l.changed)
		}
		acts := strings.Join(auditActions(t, db), ",")
		if !strings.HasSuffix(acts, "user.update,user.update,user.password.set,user.disable") {
			t.Fatalf("audit %s", acts)
		}
	})
}

func TestRolesAndLastAdmin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, l := newService(t, db)
		ctx := sysCtx()
		a1 := mustCreate(t, svc, identity.NewUser{Email: "a1@example.com", Roles: []string{"admin"}})
		a2 := mustCreate(t, svc, identity.NewUser{Email: "a2@example.com"})

		if _, err := svc.UnassignRole(ctx, a1.ID, "admin"); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("unassign last admin: %v", err)
		}
		if _, err := svc.DisableUser(ctx, a1.ID); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("disable last admin: %v", err)
		}
		if err := svc.DeleteUser(ctx, a1.ID); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("delete last admin: %v", err)
		}
		got, err := svc.AssignRole(ctx, a2.ID, "admin")
		if err != nil || !got.HasRole("admin") {
			t.Fatalf("assign: %+v %v", got, err)
		}
		if _, err := svc.AssignRole(ctx, a2.ID, "admin"); err != nil {
			t.Fatalf("re-assign: %v", err)
		}
		if _, err := svc.AssignRole(ctx, a2.ID, "nope"); !errors.Is(err, identity.ErrRoleNotFound) {
			t.Fatalf("unknown role: %v", err)
		}
		if _, err := svc.AssignRole(ctx, "nope", "admin"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		if _, err := svc.DisableUser(ctx, a1.ID); err != nil {
			t.Fatalf("disable one of two admins: %v", err)
		}
		if _, err := svc.UnassignRole(ctx, a2.ID, "admin"); !errors.Is(err, identity.ErrLastAdmin) {
			t.Fatalf("a2 is now the last active admin: %v", err)
		}
		// A disabled admin may lose the role and be deleted.
		if _, err := svc.UnassignRole(ctx, a1.ID, "admin"); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteUser(ctx, a1.ID); err != nil {
			t.Fatal(err)
		}
		if len(l.deleted) != 1 || l.deleted[0] != a1.ID {
			t.Fatalf("deleted listener %v", l.deleted)
		}
		if roles, _ := svc.RolesOf(ctx, a1.ID); len(roles) != 0 {
			t.Fatalf("roles of deleted user %v", roles)
		}

		// Custom roles.
		r, err := svc.CreateRole(ctx, identity.Role{Name: "billing-reader", Description: "Reads invoices"})
		if err != nil || r.Name != "billing-reader" || r.BuiltIn {
			t.Fatalf("create role %+v %v", r, err)
		}
		if _, err := svc.CreateRole(ctx, identity.Role{Name: "billing-reader"}); !errors.Is(err, identity.ErrRoleExists) {
			t.Fatalf("dup role: %v", err)
		}
		if _, err := svc.CreateRole(ctx, identity.Role{Name: "Bad Name"}); err == nil {
			t.Fatal("bad role name accepted")
		}
		desc := "Reads all invoices"
		if r, err = svc.UpdateRole(ctx, "billing-reader", identity.RoleUpdate{Description: &desc}); err != nil || r.Description != desc {
			t.Fatalf("update role %+v %v", r, err)
		}
		if _, err := svc.AssignRole(ctx, a2.ID, "billing-reader"); err != nil {
			t.Fatal(err)
		}
		l.changed = nil
		if err := svc.DeleteRole(ctx, "billing-reader"); err != nil {
			t.Fatal(err)
		}
		if len(l.changed) != 1 || l.changed[0] != a2.ID {
			t.Fatalf("role delete listeners %v", l.changed)
		}
		if roles, _ := svc.RolesOf(ctx, a2.ID); strings.Join(roles, ",") != "admin" {
			t.Fatalf("roles after role delete %v", roles)
		}
		for _, name := range []string{"admin", "user-admin", "auditor"} {
			if err := svc.DeleteRole(ctx, name); !errors.Is(err, identity.ErrBuiltInRole) {
				t.Fatalf("delete built-in %s: %v", name, err)
			}
			if ok, _ := svc.RoleExists(ctx, name); !ok {
				t.Fatalf("built-in %s missing", name)
			}
		}
		if err := svc.DeleteRole(ctx, "nope"); !errors.Is(err, identity.ErrRoleNotFound) {
			t.Fatalf("delete unknown role: %v", err)
		}
		roles, _ := svc.Roles(ctx)
		if len(roles) != 3 || !roles[0].BuiltIn {
			t.Fatalf("roles %+v", roles)
		}
		acts := strings.Join(auditActions(t, db), ",")
		for _, want := range []string{"role.assign", "role.unassign", "user.delete", "role.create", "role.update", "role.delete", "user.disable"} {
			if !strings.Contains(acts, want) {
				t.Fatalf("audit lacks %s: %s", want, acts)
			}
		}
	})
}

func TestListenerErrorRollsBack(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, l := newService(t, db)
		ctx := sysCtx()
		u := mustCreate(t, svc, identity.NewUser{Email: "x@example.com"})
		before := len(auditActions(t, db))
		l.fail = errors.New("downstream failed")
		if _, err := svc.AssignRole(ctx, u.ID, "auditor"); err == nil {
			t.Fatal("listener error ignored")
		}
		if err := svc.DeleteUser(ctx, u.ID); err == nil {
			t.Fatal("listener error ignored on delete")
		}
		got, err := svc.UserByID(ctx, u.ID)
		if err != nil || len(got.Roles) != 0 {
			t.Fatalf("change not rolled back: %+v %v", got, err)
		}
		if after := len(auditActions(t, db)); after != before {
			t.Fatalf("audit events of rolled-back changes persisted: %d -> %d", before, after)
		}
	})
}

// TestConcurrentLastAdmin races two admins disabling each other: exactly one
// may succeed, on both dialects.
func TestConcurrentLastAdmin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		for round := 0; round < 5; round++ {
			a := mustCreate(t, svc, identity.NewUser{Email: "a" + string(rune('a'+round)) + "@example.com", Roles: []string{"admin"}})
			b := mustCreate(t, svc, identity.NewUser{Email: "b" + string(rune('a'+round)) + "@example.com", Roles: []string{"admin"}})
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []string{a.ID, b.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i == 0 {
						_, errs[i] = svc.DisableUser(ctx, id)
					} else {
						_, errs[i] = svc.UnassignRole(ctx, id, "admin")
					}
				}()
			}
			wg.Wait()
			ok, err := svc.HasActiveAdmin(ctx)
			if err != nil || !ok {
				t.Fatalf("round %d: no active admin left (errs %v)", round, errs)
			}
			failed := 0
			for _, err := range errs {
				if errors.Is(err, identity.ErrLastAdmin) {
					failed++
				} else if err != nil {
					t.Fatalf("round %d: unexpected %v", round, err)
				}
			}
			if failed != 1 {
				t.Fatalf("round %d: %d refused, want exactly 1", round, failed)
			}
			// Leave no admins for the next round's race.
			if err := db.Gorm.Exec("DELETE FROM identity_user_roles WHERE role_name = 'admin'").Error; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func timeZero() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// TestConcurrentCreateSameEmail: racing creates of one address yield one
// user and ErrEmailTaken for the rest, never a raw database error.
func TestConcurrentCreateSameEmail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.CreateUser(sysCtx(), identity.NewUser{Email: "Race@Example.com"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, identity.ErrEmailTaken):
				t.Fatalf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d creates succeeded, want 1", ok)
		}
	})
}

// The list reads users and their roles in one statement: every field of a
// listed user equals what UserByID returns (roles sorted, username, password
// flag, last sign-in, times), inside a transaction too.
func TestListUsersMatchesUserByID(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := sysCtx()
		for _, r := range []string{"zeta", "alpha", "mid"} {
			if _, err := svc.CreateRole(ctx, identity.Role{Name: r}); err != nil {
				t.Fatal(err)
			}
		}
		mustCreate(t, svc, identity.NewUser{Email: "many@example.com", Name: "Many", Username: "many",
			Password: goodPassword, Roles: []string{"zeta", "auditor", "alpha", "mid"}, EmailVerified: true})
		mustCreate(t, svc, identity.NewUser{Email: "none@example.com"})
		mustCreate(t, svc, identity.NewUser{Email: "svc@example.com", Machine: true, Roles: []string{"mid"}})
		if _, err := svc.VerifyPassword(ctx, "many", goodPassword); err != nil {
			t.Fatal(err)
		}
		check := func(ctx context.Context) {
			page, err := svc.ListUsers(ctx, identity.UserFilter{PageSize: 10})
			if err != nil || len(page.Items) != 3 {
				t.Fatalf("list: %d items, %v", len(page.Items), err)
			}
			for _, got := range page.Items {
				want, err := svc.UserByID(ctx, got.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("listed %+v\n  by id %+v", got, want)
				}
				if got.Email == "many@example.com" && (strings.Join(got.Roles, ",") != "alpha,auditor,mid,zeta" ||
					!got.HasPassword || got.LastSignInAt == nil || got.Username != "many") {
					t.Errorf("many: %+v", got)
				}
			}
		}
		check(ctx)
		if err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error { check(ctx); return nil }); err != nil {
			t.Fatal(err)
		}
	})
}

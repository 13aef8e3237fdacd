package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

func TestUserPageShowsActivity(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		a := newActivityConsole(t, db)
		a.as = a.user("root@example.com", "Root", "admin")
		bob := a.user("bob@example.com", "Bob")
		sid := a.signIn(bob, "203.0.113.7", "Firefox <b>")
		a.addPasskey(bob, "Bob's laptop")
		// Bob creates his own key: an event with Bob as the actor.
		ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: bob, Via: principal.ViaSession})
		if _, err := a.keys.Create(ctx, apikeys.NewKey{UserID: bob, Name: "deploy-bot", Scopes: []string{"users:read"}}); err != nil {
			t.Fatal(err)
		}
		page := a.get("/admin/users/" + bob)
		page.want(t, http.StatusOK,
			"Sessions", "203.0.113.7", "Firefox &lt;b&gt;", "/admin/users/"+bob+"/sessions/"+sid+"/end", "End session", "End all sessions",
			"Passkeys", "Bob&#39;s laptop", "Remove",
			"API keys", "deploy-bot", "users:read", "Revoke", "/admin/api-keys?user="+bob,
			"Recent audit events", "user.create", "apikey.create", "/admin/audit?actor="+bob)
		if i, j := strings.Index(page.body, "apikey.create"), strings.Index(page.body, "user.create"); i > j {
			t.Error("the events are not newest first")
		}

		carol := a.user("carol@example.com", "Carol")
		a.get("/admin/users/"+carol).want(t, http.StatusOK, "No active sessions.", "No passkeys", "No API keys in use.")
	})
}

func TestUserPageEndSession(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		a := newActivityConsole(t, db)
		ua := a.user("ua@example.com", "UA", "user-admin")
		root := a.user("root@example.com", "Root", "admin")
		bob := a.user("bob@example.com", "Bob")
		keep := a.signIn(bob, "198.51.100.1", "Chrome")
		end := a.signIn(bob, "198.51.100.2", "Safari")
		rootSession := a.signIn(root, "198.51.100.3", "Edge")
		a.as = ua

		a.get("/admin/users/"+bob+"/sessions/"+end+"/end").want(t, http.StatusOK, "198.51.100.2", "End session", "Cancel")
		r := a.post("/admin/users/"+bob+"/sessions/"+end+"/end", nil)
		r.want(t, http.StatusSeeOther)
		if r.location != "/admin/users/"+bob+"?flash=session-ended" {
			t.Errorf("redirect to %q", r.location)
		}
		if got := a.liveSessions(bob); !slices.Equal(got, []string{keep}) {
			t.Errorf("live sessions %v, want only %s", got, keep)
		}
		if n := a.countEvents("logout by " + ua); n != 1 {
			t.Errorf("%d logout events by the user-admin, want 1: %v", n, a.events())
		}
		a.post("/admin/users/"+bob+"/sessions/"+end+"/end", nil).want(t, http.StatusNotFound, "That session has already ended.")

		// The admin holds rights the user-admin lacks: no buttons, and 403.
		a.get("/admin/users/"+root).want(t, http.StatusOK, "198.51.100.3")
		if body := a.get("/admin/users/" + root).body; strings.Contains(body, "End session") || strings.Contains(body, "End all sessions") {
			t.Error("the user-admin is offered to end an admin's sessions")
		}
		a.get("/admin/users/"+root+"/sessions/"+rootSession+"/end").want(t, http.StatusForbidden)
		a.post("/admin/users/"+root+"/sessions/"+rootSession+"/end", nil).want(t, http.StatusForbidden, "they hold rights you do not hold")
		a.post("/admin/users/"+root+"/sessions/end-all", nil).want(t, http.StatusForbidden)
		if got := a.liveSessions(root); !slices.Equal(got, []string{rootSession}) {
			t.Errorf("the admin's sessions are %v after refusals", got)
		}
		if n := a.countEvents("logout by " + ua); n != 1 {
			t.Errorf("a refused post was audited as logout: %v", a.events())
		}

		// A session id of another user is not found under bob.
		a.post("/admin/users/"+bob+"/sessions/"+rootSession+"/end", nil).want(t, http.StatusNotFound)

		a.get("/admin/users/"+bob+"/sessions/end-all").want(t, http.StatusOK, "End all sessions")
		a.post("/admin/users/"+bob+"/sessions/end-all", nil).want(t, http.StatusSeeOther)
		if got := a.liveSessions(bob); len(got) != 0 {
			t.Errorf("sessions left after End all sessions: %v", got)
		}
		if n := a.countEvents("logout by " + ua); n != 2 {
			t.Errorf("%d logout events by the user-admin, want 2", n)
		}
		a.get("/admin/users/"+bob).want(t, http.StatusOK, "No active sessions.")
	})
}

func TestUserPageReaderCannotChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		a := newActivityConsole(t, db)
		bob := a.user("bob@example.com", "Bob")
		sid := a.signIn(bob, "192.0.2.9", "Chrome")
		pid := a.addPasskey(bob, "YubiKey")
		root := a.user("root@example.com", "Root", "admin")
		ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: root, Via: principal.ViaSession})
		key, err := a.keys.Create(ctx, apikeys.NewKey{UserID: bob, Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		a.as = a.user("audit@example.com", "Auditor", "auditor")
		page := a.get("/admin/users/" + bob)
		page.want(t, http.StatusOK, "192.0.2.9", "YubiKey", "ci", "Recent audit events")
		for _, button := range []string{"End session", "End all sessions", ">Remove<", ">Revoke<"} {
			if strings.Contains(page.body, button) {
				t.Errorf("a reader is offered %q", button)
			}
		}
		a.post("/admin/users/"+bob+"/sessions/"+sid+"/end", nil).want(t, http.StatusForbidden)
		a.post("/admin/users/"+bob+"/sessions/end-all", nil).want(t, http.StatusForbidden)
		a.post("/admin/users/"+bob+"/passkeys/"+pid+"/remove", nil).want(t, http.StatusForbidden)
		a.post("/admin/users/"+bob+"/api-keys/"+key.Key.ID+"/revoke", nil).want(t, http.StatusForbidden)
		if got := a.liveSessions(bob); !slices.Equal(got, []string{sid}) {
			t.Errorf("sessions %v after refused posts", got)
		}
		pks, err := a.passkeys.List(context.Background(), bob)
		if err != nil || len(pks) != 1 {
			t.Errorf("passkeys %v, %v after a refused post", pks, err)
		}
		if k, err := a.keys.Get(context.Background(), key.Key.ID); err != nil || k.Revoked() {
			t.Errorf("key %+v, %v after a refused post", k, err)
		}

		// Without audit-events:read the events section is not shown.
		a.as = a.user("ua@example.com", "UA", "user-admin")
		if body := a.get("/admin/users/" + bob).body; strings.Contains(body, "Recent audit events") {
			t.Error("the events section is shown without audit-events:read")
		}
	})
}

func TestUserPageRemovePasskeyAndRevokeKey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		a := newActivityConsole(t, db)
		a.as = a.user("root@example.com", "Root", "admin")
		bob := a.user("bob@example.com", "Bob")
		pid := a.addPasskey(bob, "Phone")
		ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: a.as, Via: principal.ViaSession})
		key, err := a.keys.Create(ctx, apikeys.NewKey{UserID: bob, Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}

		a.get("/admin/users/"+bob+"/passkeys/"+pid+"/remove").want(t, http.StatusOK, "Remove the passkey &#34;Phone&#34;", "Remove passkey")
		a.post("/admin/users/"+bob+"/passkeys/"+pid+"/remove", nil).want(t, http.StatusSeeOther)
		if pks, err := a.passkeys.List(context.Background(), bob); err != nil || len(pks) != 0 {
			t.Errorf("passkeys %v, %v after Remove", pks, err)
		}
		if n := a.countEvents("passkey.remove by " + a.as); n != 1 {
			t.Errorf("%d passkey.remove events, want 1", n)
		}
		a.post("/admin/users/"+bob+"/passkeys/"+pid+"/remove", nil).want(t, http.StatusNotFound, "No such passkey.")

		other := a.user("other@example.com", "Other")
		a.post("/admin/users/"+other+"/api-keys/"+key.Key.ID+"/revoke", nil).want(t, http.StatusNotFound, "No such API key.")
		a.get("/admin/users/"+bob+"/api-keys/"+key.Key.ID+"/revoke").want(t, http.StatusOK, "Revoke API key")
		a.post("/admin/users/"+bob+"/api-keys/"+key.Key.ID+"/revoke", url.Values{}).want(t, http.StatusSeeOther)
		if k, err := a.keys.Get(context.Background(), key.Key.ID); err != nil || !k.Revoked() {
			t.Errorf("key %+v, %v after Revoke", k, err)
		}
		if n := a.countEvents("apikey.revoke by " + a.as); n != 1 {
			t.Errorf("%d apikey.revoke events, want 1", n)
		}
		a.get("/admin/users/"+bob).want(t, http.StatusOK, "No passkeys", "No API keys in use.")
	})
}

// TestUserPageActionsAreSensitive: ending sessions and removing a passkey
// go through re-authentication (Routes.Sensitive), as the console's other
// credential changes; asking for confirmation does not.
func TestUserPageActionsAreSensitive(t *testing.T) {
	a := newActivityConsole(t, testutil.NewSQLite(t))
	a.as = a.user("root@example.com", "Root", "admin")
	bob := a.user("bob@example.com", "Bob")
	sid := a.signIn(bob, "192.0.2.1", "Chrome")
	pid := a.addPasskey(bob, "Phone")
	a.stale = true
	a.get("/admin/users/"+bob+"/sessions/"+sid+"/end").want(t, http.StatusOK, "End session")
	a.post("/admin/users/"+bob+"/sessions/"+sid+"/end", nil).want(t, http.StatusUnauthorized, "Confirm it")
	a.post("/admin/users/"+bob+"/sessions/end-all", nil).want(t, http.StatusUnauthorized, "Confirm it")
	a.post("/admin/users/"+bob+"/passkeys/"+pid+"/remove", nil).want(t, http.StatusUnauthorized, "Confirm it")
	if got := a.liveSessions(bob); !slices.Equal(got, []string{sid}) {
		t.Errorf("sessions %v without re-authentication", got)
	}
	a.stale = false
	a.post("/admin/users/"+bob+"/sessions/"+sid+"/end", nil).want(t, http.StatusSeeOther)
}

// BenchmarkUserPageActivity renders a user's page with 5 sessions, 3
// passkeys, 5 API keys and their events.
func BenchmarkUserPageActivity(b *testing.B) {
	testutil.ForEachDBBench(b, func(b *testing.B, db database.DB) {
		a := newActivityConsole(b, db)
		a.as = a.user("root@example.com", "Root", "admin")
		bob := a.user("bob@example.com", "Bob")
		ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: bob, Via: principal.ViaSession})
		for i := range 5 {
			a.signIn(bob, "192.0.2.1", "Chrome")
			if _, err := a.keys.Create(ctx, apikeys.NewKey{UserID: bob, Name: "key" + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 3 {
			a.addPasskey(bob, "passkey"+strconv.Itoa(i))
		}
		for b.Loop() {
			if r := a.get("/admin/users/" + bob); r.status != http.StatusOK {
				b.Fatalf("status %d", r.status)
			}
		}
	})
}

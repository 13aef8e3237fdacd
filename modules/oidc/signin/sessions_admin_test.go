package signin

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestAdminEndsUserSessions: the console's calls list a user's sessions,
// end one (that browser is signed out, the other is not) and end the rest,
// each audited as a logout.
func TestAdminEndsUserSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newPagesTestEnvOn(t, db)
		ctx := context.Background()
		first, second := e.browser(), e.browser()
		first.signIn("")
		second.signIn("")
		list, err := e.pages.UserSessions(ctx, aliceID)
		if err != nil || len(list) != 2 {
			t.Fatalf("UserSessions = %+v, %v; want 2", list, err)
		}
		if list[0].Methods != "password" || list[0].IP == "" {
			t.Errorf("session shown as %+v", list[0])
		}
		// Newest first: the second browser's session.
		if err := e.pages.EndUserSession(ctx, "someone-else", list[0].ID); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("ending alice's session as another user's: %v, want ErrSessionNotFound", err)
		}
		if err := e.pages.EndUserSession(ctx, aliceID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if pg := second.get("/account"); pg.status == http.StatusOK {
			t.Error("the ended session still opens /account")
		}
		if pg := first.get("/account"); pg.status != http.StatusOK {
			t.Errorf("the other session was ended too: %d", pg.status)
		}
		if n := e.auditCount("logout"); n != 1 {
			t.Errorf("%d logout events, want 1", n)
		}
		if err := e.pages.EndUserSession(ctx, aliceID, list[0].ID); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("ending it again: %v, want ErrSessionNotFound", err)
		}
		n, err := e.pages.EndUserSessions(ctx, aliceID)
		if err != nil || n != 1 {
			t.Fatalf("EndUserSessions = %d, %v; want 1", n, err)
		}
		if pg := first.get("/account"); pg.status == http.StatusOK {
			t.Error("End all sessions left a session open")
		}
		if c := e.sessionCount(aliceID); c != 0 || e.auditCount("logout") != 2 {
			t.Errorf("%d sessions and %d logout events left, want 0 and 2", c, e.auditCount("logout"))
		}
	})
}

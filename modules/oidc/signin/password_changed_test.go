package signin

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestPasswordChangedEndsOtherSessions: a new password ends every session
// of the user but the one that set it (identity passes its id; "" when the
// password was set through the API), and no other user's, on both
// databases.
func TestPasswordChangedEndsOtherSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		p := &Pages{sessions: &sessionDB{db: db.Gorm, now: time.Now, timeouts: defaultSessionTimeouts}}
		start := func(user string) string {
			t.Helper()
			s, _, err := p.sessions.create(ctx, newSessionInput{UserID: user, AMR: []string{"pwd"}})
			if err != nil {
				t.Fatal(err)
			}
			return s.ID
		}
		keep, other1, _ := start("u-1"), start("u-1"), start("u-1")
		bob := start("u-2")
		if err := p.PasswordChanged(ctx, "u-1", keep); err != nil {
			t.Fatal(err)
		}
		alive := func(id string) bool {
			_, err := p.sessions.byID(ctx, id)
			return err == nil
		}
		if !alive(keep) || alive(other1) || !alive(bob) {
			t.Fatalf("after the change: kept session alive=%v, another session alive=%v, other user's alive=%v; want true, false, true",
				alive(keep), alive(other1), alive(bob))
		}
		if n, _ := p.sessions.listForUser(ctx, "u-1"); len(n) != 1 {
			t.Fatalf("u-1 has %d sessions, want 1", len(n))
		}
		// Through the API (no session to keep): all of them end.
		if err := p.PasswordChanged(ctx, "u-1", ""); err != nil {
			t.Fatal(err)
		}
		if alive(keep) || !alive(bob) {
			t.Fatal("a password set through the API kept a session, or ended another user's")
		}
	})
}

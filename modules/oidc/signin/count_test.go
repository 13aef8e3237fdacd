package signin

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestCountSessions: only live sessions count; idle and absolute ends
// follow the rule byToken applies.
func TestCountSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := newTestSessionDB(db, clock)
		count := func(want int64) {
			t.Helper()
			if n, err := s.count(ctx); err != nil || n != want {
				t.Fatalf("count = %d (%v), want %d", n, err, want)
			}
		}
		count(0)
		if _, _, err := s.create(ctx, newSessionInput{UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(11 * time.Hour)
		_, tok, err := s.create(ctx, newSessionInput{UserID: "u2"})
		if err != nil {
			t.Fatal(err)
		}
		count(2)
		clock.Advance(time.Hour) // the first is idle now
		count(1)
		for range 7 { // the second stays in use until its absolute end
			clock.Advance(11 * time.Hour)
			if _, err := s.byToken(ctx, tok); err != nil {
				break
			}
		}
		clock.Advance(7 * 24 * time.Hour)
		count(0)
	})
}

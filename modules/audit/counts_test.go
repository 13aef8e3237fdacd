package audit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

func TestCounts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		ctx := context.Background()
		at := []time.Duration{-time.Nanosecond, 0, 30 * time.Minute, time.Hour - time.Microsecond, time.Hour, 2*time.Hour + 5*time.Second, 3 * time.Hour}
		for i, d := range at {
			if err := svc.Record(ctx, audit.Event{Time: t0.Add(d), Action: "login.failure", Actor: audit.Ref{Type: "anonymous"}}); err != nil {
				t.Fatal(i, err)
			}
		}
		if err := svc.Record(ctx, audit.Event{Time: t0, Action: "login.success", Actor: audit.Ref{Type: "user", ID: "u"}}); err != nil {
			t.Fatal(err)
		}
		// Buckets are half-open: t0+1h is in the second, t0+3h in none.
		got, err := svc.Counts(ctx, "login.failure", t0, time.Hour, 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{3, 1, 1}; !slices.Equal(got, want) {
			t.Errorf("failures per hour %v, want %v", got, want)
		}
		got, err = svc.Counts(ctx, "login.success", t0.In(time.FixedZone("x", 7200)), 24*time.Hour, 2)
		if err != nil || !slices.Equal(got, []int64{1, 0}) {
			t.Errorf("successes per day %v (%v), want [1 0]", got, err)
		}
		if got, err = svc.Counts(ctx, "none", t0, time.Hour, 2); err != nil || !slices.Equal(got, []int64{0, 0}) {
			t.Errorf("no events: %v (%v)", got, err)
		}
		if _, err := svc.Counts(ctx, "login.failure", t0, time.Hour, 0); err == nil {
			t.Error("n=0 accepted")
		}
	})
}

package audit

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

const benchEvents = 200_000

var benchT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// seedEvents inserts n events, one a second from benchT0: 1,000 actors,
// 10 actions, and a target of one of three types whose id recurs every
// 20,000 events (10 events per target).
func seedEvents(b *testing.B, db database.DB, n int) {
	b.Helper()
	types := []string{"user", "api_key", "client"}
	actions := []string{"user.create", "user.update", "user.delete", "login.success", "login.failure",
		"apikey.create", "apikey.revoke", "role.assign", "role.unassign", "client.update"}
	const batch = 1000
	for start := 0; start < n; start += batch {
		rows := make([]eventRow, 0, batch)
		for i := start; i < start+batch && i < n; i++ {
			rows = append(rows, eventRow{
				ID: fmt.Sprintf("%08d", i), Time: benchT0.Add(time.Duration(i) * time.Second),
				ActorType: "user", ActorID: fmt.Sprintf("u-%04d", i%1000), Action: actions[i%len(actions)],
				TargetType: types[i%len(types)], TargetID: fmt.Sprintf("t-%05d", i%20000),
				Outcome: Success, IP: "192.0.2.1", UserAgent: "bench", Details: "{}",
			})
		}
		if err := db.Gorm.CreateInBatches(rows, 200).Error; err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect == database.Postgres {
		db.Gorm.Exec("ANALYZE audit_events")
	} else {
		db.Gorm.Exec("ANALYZE")
	}
}

// BenchmarkListAudit lists a 50-event page of 200,000 events on both
// databases with each kind of filter the API and the console take, and
// exports a one-day window (86,400 events). Seeding takes a while, so it
// runs only under -bench and never with -short.
func BenchmarkListAudit(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 200,000 events")
	}
	day := func(d int) time.Time { return benchT0.Add(time.Duration(d) * 24 * time.Hour) }
	testutil.ForEachDBBench(b, func(b *testing.B, db database.DB) {
		seedEvents(b, db, benchEvents)
		svc := New(db)
		ctx := context.Background()
		for _, c := range []struct {
			name string
			f    Filter
			want int
		}{
			{"first-page", Filter{}, 50},
			{"target-id", Filter{TargetID: "t-12345"}, 10},
			{"target-type-id", Filter{TargetType: "client", TargetID: "t-12345"}, 3},
			{"actor-window", Filter{ActorID: "u-0042", Since: day(1), Until: day(2)}, 50},
			{"action-window", Filter{Action: "login.failure", Since: day(1), Until: day(2)}, 50},
			{"time-window-old", Filter{Since: day(0), Until: day(0).Add(time.Hour)}, 50},
			{"nothing-matches", Filter{TargetID: "none", Since: day(1)}, 0},
		} {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p, err := svc.List(ctx, c.f)
					if err != nil {
						b.Fatal(err)
					}
					if len(p.Items) != c.want {
						b.Fatalf("%d items, want %d", len(p.Items), c.want)
					}
				}
			})
		}
		b.Run("export-day-csv", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Export(ctx, svc, io.Discard, CSV, Filter{Since: day(1), Until: day(2).Add(-time.Microsecond)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

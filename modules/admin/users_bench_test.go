package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

const benchUsers = 100_000

// BenchmarkUsersPage renders GET /admin/users through the real module (real
// identity and authz services, the real templates) as an admin, against
// 100,000 users on SQLite and on a fresh PostgreSQL schema (dropped after):
// the first page, a search, the htmx fragment of the same search (what
// search as you type costs per keystroke), and the first page in the name
// and email orders. Seeding runs before the timed
// loops, and only under -bench.
//
// Reported per request: median-µs and p99-µs of the time in the server
// (ServeHTTP, in process: no network), and resp-bytes.
func BenchmarkUsersPage(b *testing.B) {
	testutil.ForEachDBBench(b, func(b *testing.B, db database.DB) {
		c := newConsoleOn(b, db)
		c.as = c.user("root@example.com", "Root", "admin")
		seedBenchUsers(b, db, benchUsers)
		for _, bc := range []struct {
			name, path string
			htmx       bool
			want       string
		}{
			{"first-page", "/admin/users", false, "user000000@example.com"},
			{"search", "/admin/users?q=user0421", false, "user042149@example.com"},
			{"search-fragment", "/admin/users?q=user0421", true, "user042149@example.com"},
			{"search-name-fragment", "/admin/users?q=User+09999", true, "user099999@example.com"},
			{"sort-name-fragment", "/admin/users?sort=name", true, "user000048@example.com"},
			{"sort-email-fragment", "/admin/users?sort=email", true, "user000048@example.com"},
		} {
			b.Run(bc.name, func(b *testing.B) {
				benchGet(b, c, bc.path, bc.htmx, bc.want)
			})
		}
	})
}

// benchGet requests path until the benchmark ends and reports the median
// and 99th percentile server time and the response size.
func benchGet(b *testing.B, c *console, path string, htmx bool, want string) {
	b.ReportAllocs()
	var (
		took  []time.Duration
		bytes int
	)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		c.e.ServeHTTP(rec, req)
		took = append(took, time.Since(start))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("GET %s: %d, lacks %q", path, rec.Code, want)
		}
		bytes = rec.Body.Len()
	}
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.5), "median-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(float64(bytes), "resp-bytes")
}

// seedBenchUsers inserts n users (user000000@example.com, "User 000000", …;
// no password) straight into identity's table: multi-row INSERTs in one
// transaction, then ANALYZE, so the planner sees the real table.
func seedBenchUsers(b *testing.B, db database.DB, n int) {
	b.Helper()
	ctx := context.Background()
	// go-sqlite binds each parameter with a scan of the statement's
	// parameters (quadratic in a statement's size): smaller statements there.
	const cols = 7
	batch := 1000
	if db.Dialect != database.Postgres {
		batch = 100
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO identity_users (id, email, email_normalized, name, name_normalized, created_at, updated_at) VALUES ")
		args := make([]any, 0, batch*cols)
		for i := start; i < min(start+batch, n); i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for k := range cols {
				if k > 0 {
					sb.WriteString(", ")
				}
				if db.Dialect == database.Postgres {
					sb.WriteString("$" + strconv.Itoa(len(args)+k+1))
				} else {
					sb.WriteString("?")
				}
			}
			sb.WriteString(")")
			email := fmt.Sprintf("user%06d@example.com", i)
			args = append(args, uuid.Must(uuid.NewV7()).String(), email, email,
				fmt.Sprintf("User %06d", i), fmt.Sprintf("user %06d", i), now, now)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			b.Fatalf("seed users: %v", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatalf("analyze: %v", err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

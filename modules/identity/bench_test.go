package identity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

const benchUsers = 100_000

// seedUsers inserts n users in batches (10% of them auditors) and returns
// the id in the middle, for a deep cursor.
func seedUsers(b *testing.B, db database.DB, n int) string {
	b.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 1000
	var middle string
	for start := 0; start < n; start += batch {
		users := make([]userRow, 0, batch)
		var roles []userRoleRow
		for i := start; i < start+batch && i < n; i++ {
			id := uuid.Must(uuid.NewV7()).String()
			if i == n/2 {
				middle = id
			}
			name := fmt.Sprintf("User %06d", i)
			email := fmt.Sprintf("user%06d@example.com", i)
			users = append(users, userRow{ID: id, Email: email, EmailNormalized: email, Name: name,
				NameNormalized: "user " + fmt.Sprintf("%06d", i), Status: StatusActive, CreatedAt: now, UpdatedAt: now})
			if i%10 == 0 {
				roles = append(roles, userRoleRow{UserID: id, RoleName: RoleAuditor, CreatedAt: now})
			}
		}
		if err := db.Gorm.CreateInBatches(users, 200).Error; err != nil {
			b.Fatal(err)
		}
		if err := db.Gorm.CreateInBatches(roles, 200).Error; err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect == database.Postgres {
		db.Gorm.Exec("ANALYZE identity_users")
		db.Gorm.Exec("ANALYZE identity_user_roles")
	} else {
		db.Gorm.Exec("ANALYZE")
	}
	return middle
}

// BenchmarkListUsers lists a 50-user page out of 100,000 users on both
// databases: the first page, a page deep in the cursor, a prefix search and
// a role filter. Seeding takes a while, so it runs only under -bench and
// never with -short.
func BenchmarkListUsers(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 100,000 users")
	}
	testutil.ForEachDBBench(b, func(b *testing.B, db database.DB) {
		middle := seedUsers(b, db, benchUsers)
		svc := New(db, Deps{Audit: nil}, Options{})
		ctx := context.Background()
		for _, c := range []struct {
			name string
			f    UserFilter
			want int
		}{
			{"first-page", UserFilter{PageSize: 50}, 50},
			{"deep-page", UserFilter{PageSize: 50, PageToken: page.Encode(middle)}, 50},
			{"search-prefix", UserFilter{PageSize: 50, Query: "user0421"}, 50},
			{"search-name", UserFilter{PageSize: 50, Query: "User 09999"}, 10},
			{"role-filter", UserFilter{PageSize: 50, Role: RoleAuditor}, 50},
			{"status-filter", UserFilter{PageSize: 50, Status: StatusActive}, 50},
		} {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu := testutil.StartCPU()
				for b.Loop() {
					page, err := svc.ListUsers(ctx, c.f)
					if err != nil {
						b.Fatal(err)
					}
					if len(page.Items) != c.want {
						b.Fatalf("%d items, want %d", len(page.Items), c.want)
					}
				}
				cpu.Report(b)
			})
		}
	})
}

// Command seedusers fills a migrated Gatehouse database with N synthetic
// users (no passwords) for load runs: `go run ./scripts/seedusers -n 100000
// -database-url sqlite:data/gatehouse.db`. It writes identity's table
// directly, in batches, because creating 100,000 users through the API
// would spend its time on validation and audit events, not on the read path
// being measured.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/migrations"
)

func main() {
	n := flag.Int("n", 100000, "users to create")
	url := flag.String("database-url", "sqlite:data/gatehouse.db", "database URL")
	flag.Parse()
	if err := seed(*url, *n); err != nil {
		fmt.Fprintln(os.Stderr, "seedusers: "+err.Error())
		os.Exit(1)
	}
}

func seed(url string, n int) error {
	ctx := context.Background()
	db, err := database.Open(url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		return err
	}
	now := time.Now().UTC()
	const batch = 500
	for start := 0; start < n; start += batch {
		rows := make([]map[string]any, 0, batch)
		for i := start; i < start+batch && i < n; i++ {
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			email := fmt.Sprintf("load-user-%07d@example.com", i)
			name := fmt.Sprintf("Load User %07d", i)
			rows = append(rows, map[string]any{
				"id": id.String(), "email": email, "email_normalized": email,
				"name": name, "name_normalized": "load user " + fmt.Sprintf("%07d", i),
				"status": "active", "email_verified": false, "machine": false, "password_hash": "",
				"created_at": now, "updated_at": now,
			})
		}
		if err := db.Gorm.Table("identity_users").Create(rows).Error; err != nil {
			return fmt.Errorf("insert users: %w", err)
		}
	}
	return nil
}

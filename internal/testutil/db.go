// Package testutil holds helpers shared by tests: databases on both dialects,
// a settable clock.
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema set-up

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/migrations"
)

// DefaultPostgresURL is used when GATEHOUSE_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresURL returns the server tests use.
func PostgresURL() string {
	if u := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// ForEachDB runs fn as a subtest on a fresh, fully migrated SQLite database
// and on a fresh PostgreSQL schema. A PostgreSQL server that does not answer
// fails the test: CI must not silently test one dialect.
func ForEachDB(t *testing.T, fn func(t *testing.T, db database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, NewSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgres(t)) })
}

// NewSQLite returns a migrated SQLite database in t.TempDir().
func NewSQLite(t testing.TB) database.DB {
	t.Helper()
	db, err := database.Open("sqlite:" + filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	migrate(t, db)
	return db
}

// NewPostgres returns a migrated database in a fresh PostgreSQL schema that
// is dropped when the test ends.
func NewPostgres(t testing.TB) database.DB {
	t.Helper()
	dbURL := NewPostgresSchemaURL(t)
	db, err := database.Open(dbURL)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	migrate(t, db)
	return db
}

var adminOnce sync.Once
var adminDB *sql.DB
var adminErr error

// NewPostgresSchemaURL creates an empty schema and returns a URL whose
// search_path points at it, for tests (and e2e servers) that open their own
// connections.
func NewPostgresSchemaURL(t testing.TB) string {
	t.Helper()
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", PostgresURL())
		if adminErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			adminErr = adminDB.PingContext(ctx)
		}
	})
	if adminErr != nil {
		t.Fatalf("PostgreSQL at %s does not answer (set GATEHOUSE_TEST_POSTGRES_URL): %v", PostgresURL(), adminErr)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := adminDB.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = adminDB.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("parse postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func migrate(t testing.TB, db database.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("migrate %s: %v", db.Dialect, err)
	}
}

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC()} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/migrations"
)

// fresh opens an empty database of the dialect (no migrations applied).
func fresh(t *testing.T, dialect database.Dialect) database.DB {
	t.Helper()
	url := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	if dialect == database.Postgres {
		url = testutil.NewPostgresSchemaURL(t)
	}
	db, err := database.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func forEachDialect(t *testing.T, fn func(t *testing.T, d database.Dialect)) {
	for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

func TestModules(t *testing.T) {
	mods := migrations.Modules()
	if !sort.StringsAreSorted(mods) || len(mods) == 0 {
		t.Fatalf("Modules() = %v, want a sorted non-empty list", mods)
	}
	found := false
	for _, m := range mods {
		found = found || m == "audit"
	}
	if !found {
		t.Errorf("Modules() = %v lacks audit", mods)
	}
	// Every module has files in both dialects in the embedded tree.
	for _, m := range mods {
		for _, d := range []string{"sqlite", "postgres"} {
			matches, err := fs.Glob(migrations.Files(), m+"/"+d+"/*.sql")
			if err != nil || len(matches) == 0 {
				t.Errorf("%s/%s: no embedded migrations (%v)", m, d, err)
			}
		}
	}
}

func TestUpStatusCheckCurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d database.Dialect) {
		ctx := context.Background()
		db := fresh(t, d)

		// Fresh: everything pending, readiness fails with ErrPending.
		st, err := migrations.Status(ctx, db)
		if err != nil {
			t.Fatalf("Status on a fresh database: %v", err)
		}
		if len(st) != len(migrations.Modules()) {
			t.Fatalf("Status has %d modules, want %d", len(st), len(migrations.Modules()))
		}
		for _, s := range st {
			if s.Current != 0 || s.Latest == 0 || !s.Pending() {
				t.Errorf("fresh %s: %+v, want current 0 and pending", s.Module, s)
			}
		}
		if err := migrations.CheckCurrent(ctx, db); !errors.Is(err, migrations.ErrPending) {
			t.Errorf("CheckCurrent on a fresh database = %v, want ErrPending", err)
		}

		// Up, then Up again (idempotent).
		for i := 0; i < 2; i++ {
			if err := migrations.Up(ctx, db); err != nil {
				t.Fatalf("Up #%d: %v", i+1, err)
			}
		}
		st, err = migrations.Status(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Pending() || s.Current != s.Latest {
				t.Errorf("after Up %s: %+v", s.Module, s)
			}
		}
		if err := migrations.CheckCurrent(ctx, db); err != nil {
			t.Errorf("CheckCurrent after Up = %v", err)
		}

		// Each module keeps its own version table.
		for _, m := range migrations.Modules() {
			if !db.Gorm.Migrator().HasTable(m + "_schema_migrations") {
				t.Errorf("no version table %s_schema_migrations", m)
			}
		}
		if db.Gorm.Migrator().HasTable("goose_db_version") {
			t.Error("the shared goose_db_version table exists; each module has its own")
		}
	})
}

// TestDown: every migration's Down section works: rolling one module back to
// zero and up again leaves it current. This catches a Down that drops the
// wrong table or forgets one.
func TestDownAndUpAgain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d database.Dialect) {
		ctx := context.Background()
		db := fresh(t, d)
		if err := migrations.Up(ctx, db); err != nil {
			t.Fatal(err)
		}
		tables := func() []string {
			names, err := db.Gorm.Migrator().GetTables()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range names {
				if !strings.HasSuffix(n, "_schema_migrations") && !strings.HasPrefix(n, "sqlite_") {
					out = append(out, n)
				}
			}
			sort.Strings(out)
			return out
		}
		before := tables()
		if len(before) == 0 {
			t.Fatal("no tables after Up")
		}
		if err := downAll(ctx, db); err != nil {
			t.Fatalf("DownAll: %v", err)
		}
		if left := tables(); len(left) != 0 {
			t.Errorf("tables left after every Down: %v", left)
		}
		if err := migrations.Up(ctx, db); err != nil {
			t.Fatalf("Up after Down: %v", err)
		}
		if after := tables(); strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("tables after Down+Up = %v, want %v", after, before)
		}
	})
}

// TestConcurrentUp: replicas starting together on one PostgreSQL database
// apply each migration once (the per-module session lock) and all succeed.
func TestConcurrentUp(t *testing.T) {
	url := testutil.NewPostgresSchemaURL(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(url)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = migrations.Up(context.Background(), db)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	db, err := database.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrations.CheckCurrent(context.Background(), db); err != nil {
		t.Errorf("after concurrent Up: %v", err)
	}
}

// downAll rolls every module back to version 0 with goose over the embedded
// files, the way an operator would with the goose CLI.
func downAll(ctx context.Context, db database.DB) error {
	dialect := goose.DialectSQLite3
	if db.Dialect == database.Postgres {
		dialect = goose.DialectPostgres
	}
	for _, m := range migrations.Modules() {
		sub, err := fs.Sub(migrations.Files(), m+"/"+string(db.Dialect))
		if err != nil {
			return err
		}
		p, err := goose.NewProvider(dialect, db.SQL(), sub,
			goose.WithTableName(m+"_schema_migrations"), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			return err
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	return nil
}

// Package migrations holds every module's versioned SQL migrations and runs
// them with goose. Each module has its own sequence under <module>/<dialect>/
// and its own version table <module>_schema_migrations, so a module can later
// move to its own database without renumbering anything.
//
// A new migration takes the number after the highest one of its module:
// goose refuses to apply a version lower than one already applied.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse/gatehouse/internal/database"
)

//go:embed */sqlite/*.sql */postgres/*.sql
var files embed.FS

// Modules lists the modules that have migrations, sorted.
func Modules() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Files exposes the embedded tree (for the dialect-parity test).
func Files() fs.FS { return files }

func provider(db database.DB, module string) (*goose.Provider, error) {
	sub, err := fs.Sub(files, path.Join(module, string(db.Dialect)))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithTableName(module + "_schema_migrations"),
		goose.WithDisableGlobalRegistry(true),
	}
	if db.Dialect == database.Postgres {
		dialect = goose.DialectPostgres
		// Replicas starting together must not run the same migration twice.
		// The lock id is per module so modules do not wait on each other.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(module)))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.SQL(), sub, opts...)
}

func lockID(module string) int64 {
	var h int64 = 0x6761746568 // "gateh"
	for _, c := range module {
		h = h*31 + int64(c)
	}
	return h
}

// Up applies every pending migration of every module.
func Up(ctx context.Context, db database.DB) error {
	for _, m := range Modules() {
		p, err := provider(db, m)
		if err != nil {
			return fmt.Errorf("migrations %s: %w", m, err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrations %s: %w", m, err)
		}
	}
	return nil
}

// ModuleStatus is one module's applied and latest versions.
type ModuleStatus struct {
	Module  string
	Current int64
	Latest  int64
}

// Pending reports whether the module has migrations still to apply.
func (s ModuleStatus) Pending() bool { return s.Current < s.Latest }

// Status reports each module's versions.
func Status(ctx context.Context, db database.DB) ([]ModuleStatus, error) {
	var out []ModuleStatus
	for _, m := range Modules() {
		p, err := provider(db, m)
		if err != nil {
			return nil, fmt.Errorf("migrations %s: %w", m, err)
		}
		cur, latest, err := p.GetVersions(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrations %s: %w", m, err)
		}
		out = append(out, ModuleStatus{Module: m, Current: cur, Latest: latest})
	}
	return out, nil
}

// ErrPending is returned by CheckCurrent when a migration is still to apply.
var ErrPending = errors.New("database has pending migrations")

// CheckCurrent returns nil when the database answers and every module is
// migrated to its latest version (the readiness check).
func CheckCurrent(ctx context.Context, db database.DB) error {
	st, err := Status(ctx, db)
	if err != nil {
		return err
	}
	for _, s := range st {
		if s.Pending() {
			return fmt.Errorf("%w: %s at %d of %d", ErrPending, s.Module, s.Current, s.Latest)
		}
	}
	return nil
}

package database_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// item is a throw-away table of these tests (created with gorm, not a
// migration: it belongs to no module).
type item struct {
	ID   string `gorm:"primaryKey"`
	Name string `gorm:"uniqueIndex"`
}

func (item) TableName() string { return "dbtest_items" }

func setup(t *testing.T, db database.DB) *gorm.DB {
	t.Helper()
	if err := db.Gorm.AutoMigrate(&item{}); err != nil {
		t.Fatalf("create test table: %v", err)
	}
	return db.Gorm
}

func count(t *testing.T, g *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := g.Model(&item{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func insert(ctx context.Context, g *gorm.DB, id string) error {
	return database.Conn(ctx, g).Create(&item{ID: id, Name: "name-" + id}).Error
}

var errBoom = errors.New("boom")

func TestTransact(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		g := setup(t, db)
		ctx := context.Background()

		t.Run("commit", func(t *testing.T) {
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				if !database.InTx(ctx) {
					t.Error("InTx is false inside Transact")
				}
				return insert(ctx, g, "c1")
			})
			if err != nil || count(t, g) != 1 {
				t.Fatalf("commit: err %v, rows %d", err, count(t, g))
			}
		})

		t.Run("rollback on error", func(t *testing.T) {
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				if err := insert(ctx, g, "r1"); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("err = %v, want errBoom", err)
			}
			if n := count(t, g); n != 1 {
				t.Errorf("rows = %d after rollback, want 1", n)
			}
		})

		t.Run("rollback on panic", func(t *testing.T) {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic was swallowed")
					}
				}()
				_ = database.Transact(ctx, g, func(ctx context.Context) error {
					_ = insert(ctx, g, "p1")
					panic("boom")
				})
			}()
			if n := count(t, g); n != 1 {
				t.Errorf("rows = %d after a panic, want 1", n)
			}
		})

		t.Run("nested joins the outer transaction", func(t *testing.T) {
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				if err := insert(ctx, g, "n1"); err != nil {
					return err
				}
				if err := database.Transact(ctx, g, func(ctx context.Context) error {
					return insert(ctx, g, "n2")
				}); err != nil {
					return err
				}
				return errBoom // the inner write must roll back with the outer
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("err = %v", err)
			}
			if n := count(t, g); n != 1 {
				t.Errorf("rows = %d, want 1: a nested Transact committed on its own", n)
			}
		})

		t.Run("inner error rolls back everything", func(t *testing.T) {
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				if err := insert(ctx, g, "i1"); err != nil {
					return err
				}
				return database.Transact(ctx, g, func(ctx context.Context) error {
					_ = insert(ctx, g, "i2")
					return fmt.Errorf("inner: %w", errBoom)
				})
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("err = %v", err)
			}
			if n := count(t, g); n != 1 {
				t.Errorf("rows = %d, want 1", n)
			}
		})

		t.Run("reads inside see own writes; outside do not until commit", func(t *testing.T) {
			err := database.Transact(ctx, g, func(txCtx context.Context) error {
				if err := insert(txCtx, g, "v1"); err != nil {
					return err
				}
				var in int64
				if err := database.Conn(txCtx, g).Model(&item{}).Count(&in).Error; err != nil {
					return err
				}
				if in != 2 {
					t.Errorf("inside: %d rows, want 2", in)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, g); n != 2 {
				t.Errorf("after commit: %d rows", n)
			}
		})

		t.Run("duplicate key is translated", func(t *testing.T) {
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				return database.Conn(ctx, g).Create(&item{ID: "dup", Name: "name-c1"}).Error
			})
			if !errors.Is(err, gorm.ErrDuplicatedKey) {
				t.Errorf("err = %v, want gorm.ErrDuplicatedKey (TranslateError)", err)
			}
			err = database.Conn(ctx, g).Where("id = ?", "missing").First(&item{}).Error
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				t.Errorf("err = %v, want gorm.ErrRecordNotFound", err)
			}
		})

		t.Run("after commit runs once the outer transaction committed", func(t *testing.T) {
			var ran []string
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				if err := insert(ctx, g, "a1"); err != nil {
					return err
				}
				return database.Transact(ctx, g, func(ctx context.Context) error {
					database.AfterCommit(ctx, func() {
						// The write is visible outside the transaction by now.
						var n int64
						_ = g.Model(&item{}).Where("id = ?", "a1").Count(&n).Error
						ran = append(ran, fmt.Sprintf("inner sees %d", n))
					})
					if len(ran) != 0 {
						t.Error("AfterCommit ran before the commit")
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(ran) != 1 || ran[0] != "inner sees 1" {
				t.Errorf("after commit: %v, want one run that sees the row", ran)
			}
		})

		t.Run("after commit never runs on rollback; at once outside a transaction", func(t *testing.T) {
			ran := 0
			err := database.Transact(ctx, g, func(ctx context.Context) error {
				database.AfterCommit(ctx, func() { ran++ })
				return errBoom
			})
			if !errors.Is(err, errBoom) || ran != 0 {
				t.Errorf("err %v, ran %d times after a rollback", err, ran)
			}
			database.AfterCommit(ctx, func() { ran++ })
			if ran != 1 {
				t.Errorf("outside a transaction it ran %d times, want at once", ran)
			}
		})

		if database.InTx(ctx) {
			t.Error("InTx is true outside a transaction")
		}
	})
}

// TestConcurrentWriters: many goroutines writing in transactions at once
// neither fail with "database is locked" on SQLite nor lose writes.
func TestConcurrentWriters(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		g := setup(t, db)
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					id := fmt.Sprintf("w%d-%d", w, i)
					errs <- database.Transact(context.Background(), g, func(ctx context.Context) error {
						var n int64
						if err := database.Conn(ctx, g).Model(&item{}).Count(&n).Error; err != nil {
							return err
						}
						return insert(ctx, g, id)
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent write: %v", err)
			}
		}
		if n := count(t, g); n != writers*each {
			t.Errorf("rows = %d, want %d", n, writers*each)
		}
	})
}

func TestOpen(t *testing.T) {
	db, err := database.Open("sqlite:" + filepath.Join(t.TempDir(), "a", "b", "g.db"))
	if err != nil {
		t.Fatalf("open sqlite in a new directory: %v", err)
	}
	if db.Dialect != database.SQLite {
		t.Errorf("dialect %q", db.Dialect)
	}
	var mode string
	if err := db.Gorm.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk int
	if err := db.Gorm.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
	if err := db.Close(); err != nil {
		t.Error(err)
	}

	pg, err := database.Open(testutil.NewPostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer pg.Close()
	if pg.Dialect != database.Postgres {
		t.Errorf("dialect %q", pg.Dialect)
	}

	for _, bad := range []string{"mysql://x", "", "sqlite:", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"} {
		if _, err := database.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://user:secret@db:5432/gh": "postgres://***@db:5432/gh",
		"postgres://db/gh":                  "postgres://db/gh",
		"sqlite:data/gatehouse.db":          "sqlite:data/gatehouse.db",
	} {
		got := database.Redact(in)
		if got != want || strings.Contains(got, "secret") {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

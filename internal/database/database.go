// Package database opens the gorm connection for SQLite or PostgreSQL and
// carries transactions through a context, so that a module's change and the
// audit event recording it commit together without either knowing the other.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL flavour; migrations are kept per dialect.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database with its dialect.
type DB struct {
	Gorm    *gorm.DB
	Dialect Dialect
}

// SQL returns the underlying *sql.DB (for migrations, pool metrics, Close).
func (d DB) SQL() *sql.DB {
	sqlDB, err := d.Gorm.DB()
	if err != nil {
		// gorm.DB opened by Open always has a *sql.DB.
		panic(err)
	}
	return sqlDB
}

// Close closes the pool.
func (d DB) Close() error { return d.SQL().Close() }

// Open connects to url: "sqlite:PATH" or "postgres://...". SQLite runs in WAL
// mode with a busy timeout and foreign keys on; PostgreSQL with a sized pool.
func Open(url string) (DB, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // we open transactions where they matter
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		return openSQLite(path, cfg)
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(url, cfg)
	}
	return DB{}, errors.New("database URL must start with sqlite: or postgres://")
}

func openSQLite(path string, cfg *gorm.Config) (DB, error) {
	file, query, _ := strings.Cut(path, "?")
	if file == "" {
		return DB{}, errors.New("sqlite: empty path")
	}
	if file != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return DB{}, fmt.Errorf("create database directory: %w", err)
		}
	}
	// Pragmas go in the DSN so that every pooled connection gets them.
	dsn := "file:" + file + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if query != "" {
		dsn += "&" + query
	}
	g, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return DB{}, fmt.Errorf("open sqlite %s: %w", file, err)
	}
	sqlDB, _ := g.DB()
	// WAL allows many readers and one writer; _txlock=immediate makes writers
	// queue on the busy timeout instead of failing with SQLITE_BUSY on upgrade.
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.Ping(); err != nil {
		return DB{}, fmt.Errorf("open sqlite %s: %w", file, err)
	}
	return DB{Gorm: g, Dialect: SQLite}, nil
}

func openPostgres(url string, cfg *gorm.Config) (DB, error) {
	g, err := gorm.Open(postgres.New(postgres.Config{DSN: url}), cfg)
	if err != nil {
		return DB{}, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB, _ := g.DB()
	sqlDB.SetMaxOpenConns(25)
	sqlDB.SetMaxIdleConns(25)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return DB{}, fmt.Errorf("open postgres: %w", err)
	}
	return DB{Gorm: g, Dialect: Postgres}, nil
}

type txKey struct{}

// txState is the transaction a context carries, with what must run once it
// has committed.
type txState struct {
	tx          *gorm.DB
	afterCommit []func()
}

// Transact runs fn in a transaction. The transaction travels in the context
// given to fn; stores obtain it with Conn, so every write inside fn (including
// audit events) commits or rolls back together. Nested calls join the outer
// transaction.
func Transact(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	return transact(ctx, db, fn)
}

// TransactAlone runs fn in a transaction of its own even when ctx carries
// one (which fn's context then no longer sees): for writes that must commit
// whatever becomes of the caller's transaction, such as counting a failed
// sign-in.
func TransactAlone(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	return transact(ctx, db, fn)
}

func transact(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	st := &txState{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st.tx = tx
		return fn(context.WithValue(ctx, txKey{}, st))
	})
	if err == nil {
		for _, f := range st.afterCommit {
			f()
		}
	}
	return err
}

// AfterCommit runs fn once the transaction ctx carries has committed (never
// if it rolls back), or at once when ctx carries none (a statement outside
// a transaction commits by itself). For in-memory state that must not change
// before the database does, such as forgetting cached answers.
func AfterCommit(ctx context.Context, fn func()) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.afterCommit = append(st.afterCommit, fn)
		return
	}
	fn()
}

// Conn returns the transaction carried by ctx, or db bound to ctx.
func Conn(ctx context.Context, db *gorm.DB) *gorm.DB {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx
	}
	return db.WithContext(ctx)
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*txState)
	return ok
}

// Redact keeps credentials out of logs when a URL is printed.
func Redact(url string) string {
	if i := strings.Index(url, "@"); i > 0 && strings.Contains(url[:i], "://") {
		scheme, _, _ := strings.Cut(url, "://")
		return scheme + "://***" + url[i:]
	}
	return url
}

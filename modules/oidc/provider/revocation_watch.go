package provider

// The revocation watch lets a check of an access token skip the denylist
// look-up when nothing can have been revoked since the token was last looked
// up, without giving up freshness: it answers a stamp that changes whenever
// a revocation may have been committed, on this replica or any other.
//
//   - SQLite (one server process, plus CLI commands writing from their own
//     processes): PRAGMA data_version on a connection the watch keeps. It
//     changes when any other connection — the server's own pool or another
//     process — commits anything, so the stamp is exact; a busy server
//     that writes often just looks up more often. Reading it costs ~5 µs
//     against ~35 µs for the look-up.
//   - PostgreSQL (replicas): every revocation sends NOTIFY
//     gatehouse_revocations in its transaction (delivered on commit) and
//     bumps the stamp of its own replica after the commit; each replica
//     LISTENs on a connection of its own and bumps its stamp on every
//     notification. A revocation on another replica is seen once its
//     notification arrives (PostgreSQL delivers it to an idle listener at
//     commit; well under a millisecond on one network). While the listener
//     is not connected the watch answers "unknown" and every check looks
//     the token up, as without the watch. A listener connection that dies
//     silently (a network partition) is noticed by a ping after 2 s of
//     quiet, so in that failure alone a revocation on another replica may
//     go unseen here for up to ~4 s.
//
// A check reads the stamp before its look-up and remembers it with the
// token only if the look-up found nothing (verifiedToken.notRevokedAt);
// a later check with the same stamp needs no look-up. The watch runs only
// in Run (the server); elsewhere every check looks up.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/jackc/pgx/v5/stdlib"
)

const revocationChannel = "gatehouse_revocations"

// listenerPing is how long the listener waits quietly before it checks its
// connection: a connection that died without an error (a network
// partition) is noticed within two of these.
const listenerPing = 2 * time.Second

type revocationWatch struct {
	db     database.DB
	logger *slog.Logger
	// SQLite: the prepared PRAGMA on the watch's own connection (nil when
	// not watching).
	version atomic.Pointer[sql.Stmt]
	// PostgreSQL: gen changes with every revocation seen; listening says
	// whether the LISTEN connection is up, so gen can be trusted.
	gen       atomic.Uint64
	listening atomic.Bool
}

// stamp returns a value that differs from any earlier one if a revocation
// may have been committed since, and false when the watch cannot tell.
func (w *revocationWatch) stamp() (uint64, bool) {
	if w.db.Dialect == database.Postgres {
		if !w.listening.Load() {
			return 0, false
		}
		return w.gen.Load(), true
	}
	stmt := w.version.Load()
	if stmt == nil {
		return 0, false
	}
	// Not the request's context: the SQLite driver watches a cancellable
	// context with a goroutine per query, which cost more than the read.
	// Reading data_version takes no lock and cannot hang.
	var v int64
	if err := stmt.QueryRowContext(context.Background()).Scan(&v); err != nil {
		return 0, false
	}
	return uint64(v), true
}

// revoking is called by every revocation in its transaction: on
// PostgreSQL it notifies the other replicas at commit and changes this
// replica's stamp once committed (SQLite's data_version changes by itself).
func (w *revocationWatch) revoking(ctx context.Context) error {
	if w.db.Dialect != database.Postgres {
		return nil
	}
	if err := database.Conn(ctx, w.db.Gorm).Exec("SELECT pg_notify(?, '')", revocationChannel).Error; err != nil {
		return fmt.Errorf("oidc: notify revocation: %w", err)
	}
	database.AfterCommit(ctx, func() { w.gen.Add(1) })
	return nil
}

// run watches until ctx ends: SQLite holds its connection; PostgreSQL
// listens, reconnecting after a failure (1 s, doubling up to 30 s).
func (w *revocationWatch) run(ctx context.Context) {
	sqlDB := w.db.SQL()
	if w.db.Dialect != database.Postgres {
		w.watchSQLite(ctx, sqlDB)
		return
	}
	backoff := time.Second
	for {
		start := time.Now()
		err := w.listen(ctx, sqlDB)
		w.listening.Store(false)
		w.gen.Add(1)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		w.logger.Warn("oidc: revocation listener lost; checks look every token up until it is back",
			slog.Any("error", err), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (w *revocationWatch) watchSQLite(ctx context.Context, sqlDB *sql.DB) {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		w.logger.Warn("oidc: revocation watch off; every check looks the token up", slog.Any("error", err))
		return
	}
	defer conn.Close()
	stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		w.logger.Warn("oidc: revocation watch off; every check looks the token up", slog.Any("error", err))
		return
	}
	w.version.Store(stmt)
	<-ctx.Done()
	w.version.Store(nil)
	_ = stmt.Close()
}

// listen takes a connection out of the pool, LISTENs on it and bumps gen
// for every notification until the connection fails or ctx ends. The
// connection is never handed back: it would carry the LISTEN.
func (w *revocationWatch) listen(ctx context.Context, sqlDB *sql.DB) error {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var failure error
	_ = conn.Raw(func(dc any) error {
		failure = w.listenOn(ctx, dc)
		// Discard the connection rather than return it to the pool
		// listening.
		return driver.ErrBadConn
	})
	return failure
}

func (w *revocationWatch) listenOn(ctx context.Context, dc any) error {
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("revocation watch: driver connection is %T, not pgx", dc)
	}
	pc := sc.Conn()
	if _, err := pc.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
		return err
	}
	// Anything revoked before LISTEN took effect was looked up against an
	// older stamp; a new one makes those answers stale.
	w.gen.Add(1)
	w.listening.Store(true)
	for {
		wait, cancel := context.WithTimeout(ctx, listenerPing)
		_, err := pc.WaitForNotification(wait)
		cancel()
		if err == nil {
			w.gen.Add(1)
			continue
		}
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// Quiet for a while: make sure the connection still answers,
			// so a connection that died silently is noticed.
			ping, cancel := context.WithTimeout(ctx, listenerPing)
			err = pc.Ping(ping)
			cancel()
			if err == nil {
				continue
			}
		}
		w.listening.Store(false)
		return err
	}
}

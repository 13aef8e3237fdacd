package provider

// The revocation watch lets a check of an access token skip the denylist
// look-up when nothing can have been revoked since the token was last looked
// up: it answers a stamp that changes whenever a revocation may have been
// committed, on this replica or any other.
//
//   - PostgreSQL (replicas): on this replica every revocation changes the
//     stamp once its transaction has committed (database.AfterCommit), so
//     a check that starts after a revocation here returns is never answered
//     from before it. Every revocation also sends NOTIFY
//     gatehouse_revocations in its transaction (delivered on commit); each
//     replica LISTENs on a connection of its own and changes its stamp on
//     every notification. A revocation on another replica is seen once its
//     notification arrives (PostgreSQL delivers it to an idle listener at
//     commit; well under a millisecond on one network). While the listener
//     is not connected the watch answers "unknown" and every check looks
//     the token up. A listener connection that dies silently (a network
//     partition) is noticed by a ping after 2 s of quiet, so in that
//     failure alone a revocation on another replica may go unseen here for
//     up to ~4 s.
//   - SQLite (the server, plus CLI commands writing from their own
//     processes): PRAGMA data_version, read by every check on a connection
//     the watch keeps, changes when any other connection — the server's
//     pool or another process — commits anything, so a check that starts
//     after a revocation's commit anywhere sees it. The read (~9 µs, most
//     of it the WAL read lock's fcntl calls) replaces the look-up (~35 µs);
//     a server that writes often just looks up more often.
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
	"sync"
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
	// gen changes with every revocation seen.
	gen atomic.Uint64
	// PostgreSQL: whether the LISTEN connection is up, so gen can be
	// trusted.
	listening atomic.Bool
	// SQLite: data_version on the watch's own connection (nil when not
	// watching).
	version atomic.Pointer[dataVersion]
}

// dataVersion reads PRAGMA data_version through the driver directly, on
// the connection watchSQLite holds (database/sql's statement, row and scan
// machinery cost as much again).
type dataVersion struct {
	mu   sync.Mutex
	stmt driver.StmtQueryContext // nil once stopped
	dest [1]driver.Value
	last int64
}

// changed reads data_version and reports whether it moved since the last
// read. The caller holds mu.
func (v *dataVersion) changed() (bool, error) {
	if v.stmt == nil {
		return false, errors.New("revocation watch: stopped")
	}
	// Not the request's context: the SQLite driver watches a cancellable
	// context with a goroutine per query. Reading data_version cannot hang.
	rows, err := v.stmt.QueryContext(context.Background(), nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if err := rows.Next(v.dest[:]); err != nil {
		return false, err
	}
	n, ok := v.dest[0].(int64)
	if !ok {
		return false, fmt.Errorf("revocation watch: data_version is %T", v.dest[0])
	}
	moved := n != v.last
	v.last = n
	return moved, nil
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
	dv := w.version.Load()
	if dv == nil {
		return 0, false
	}
	dv.mu.Lock()
	defer dv.mu.Unlock()
	moved, err := dv.changed()
	if err != nil {
		return 0, false
	}
	if moved {
		w.gen.Add(1)
	}
	return w.gen.Load(), true
}

// revoking is called by every revocation in its transaction. On
// PostgreSQL it notifies the other replicas at commit and changes this
// replica's stamp once committed (its own notification arrives later).
// SQLite needs nothing: the commit changes data_version, which the next
// check reads.
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
	if err == nil {
		defer conn.Close()
		// The driver connection is used only while this function runs,
		// and only by read (under dataVersion.mu).
		err = conn.Raw(func(dc any) error {
			pc, ok := dc.(driver.ConnPrepareContext)
			if !ok {
				return fmt.Errorf("revocation watch: driver connection %T cannot prepare", dc)
			}
			st, err := pc.PrepareContext(ctx, "PRAGMA data_version")
			if err != nil {
				return err
			}
			defer st.Close()
			q, ok := st.(driver.StmtQueryContext)
			if !ok {
				return fmt.Errorf("revocation watch: driver statement %T cannot query", st)
			}
			dv := &dataVersion{stmt: q}
			if _, err := dv.changed(); err != nil {
				return err
			}
			w.gen.Add(1)
			w.version.Store(dv)
			<-ctx.Done()
			w.version.Store(nil)
			// A read in progress ends before the statement closes, and one
			// that loaded dv before the Store finds no statement.
			dv.mu.Lock()
			dv.stmt = nil
			dv.mu.Unlock()
			return nil
		})
	}
	if err != nil && ctx.Err() == nil {
		w.logger.Warn("oidc: revocation watch off; every check looks the token up", slog.Any("error", err))
	}
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

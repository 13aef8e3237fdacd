package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of rows in oidc_revoked_tokens.
const (
	revokedAccessToken = "access_token" // id is the token's jti
	revokedGrant       = "grant"        // id is a grant id: every token of that grant
	revokedSubject     = "subject"      // id is a user id: every token issued to them until revoked_at
)

type revokedTokenRow struct {
	ID        string `gorm:"primaryKey"`
	Kind      string
	RevokedAt time.Time
	ExpiresAt time.Time
}

func (revokedTokenRow) TableName() string { return "oidc_revoked_tokens" }

// revocationCache is the in-process set of revoked access-token ids and grant
// ids. Access tokens are JWTs verified offline, so revocation is a denylist:
// each replica polls the table (revoked_at newer than its last poll, with an
// overlap for clock skew between replicas) and adds its own revocations at
// once. Entries leave when the tokens they name have expired anyway.
type revocationCache struct {
	db  *gorm.DB
	now func() time.Time

	mu       sync.RWMutex
	m        map[string]time.Time // id → expiry
	subjects map[string]time.Time // user id → tokens issued up to then are revoked
	lastPoll time.Time

	syncMu  sync.Mutex
	pending *pollRound // the next shared poll, collecting callers
	running bool       // a runRounds goroutine is active
}

const revocationPollOverlap = 30 * time.Second

func (c *revocationCache) isRevoked(ids ...string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, ok := c.m[id]; ok {
			return true
		}
	}
	return false
}

// subjectRevoked reports whether a token issued at iat to sub predates a
// revocation of every token of that user (disabled or deleted).
func (c *revocationCache) subjectRevoked(sub string, iat time.Time) bool {
	c.mu.RLock()
	t, ok := c.subjects[sub]
	c.mu.RUnlock()
	return ok && !iat.After(t)
}

// record persists a revocation (idempotent) and applies it locally.
func (c *revocationCache) record(ctx context.Context, id, kind string, expires time.Time) error {
	now := c.now()
	row := revokedTokenRow{ID: id, Kind: kind, RevokedAt: now, ExpiresAt: expires}
	q := database.Conn(ctx, c.db)
	if kind == revokedSubject {
		// A later revocation of the same user moves the cut-off forward.
		row.ID = "subject:" + id
		q = q.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"revoked_at", "expires_at"})})
	} else {
		q = q.Clauses(clause.OnConflict{DoNothing: true})
	}
	if err := q.Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: record revocation: %w", err)
	}
	c.apply(row)
	return nil
}

// syncNow returns once a poll that started after the call has finished, so
// every revocation committed before the call (on any replica) is in the
// cache. Concurrent callers share one poll, and polls start at most every
// syncInterval, so under load the database sees at most ~1000 small queries
// a second per replica however many tokens are checked, at the price of up
// to a couple of milliseconds of latency.
func (c *revocationCache) syncNow(ctx context.Context) error {
	c.syncMu.Lock()
	r := c.pending
	if r == nil {
		r = &pollRound{done: make(chan struct{})}
		c.pending = r
	}
	if !c.running {
		c.running = true
		go c.runRounds()
	}
	c.syncMu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollRound is one shared poll and the callers waiting for it.
type pollRound struct {
	done chan struct{}
	err  error
}

const syncInterval = time.Millisecond

func (c *revocationCache) runRounds() {
	var lastStart time.Time
	for {
		if wait := syncInterval - time.Since(lastStart); wait > 0 {
			time.Sleep(wait)
		}
		c.syncMu.Lock()
		r := c.pending
		c.pending = nil
		if r == nil {
			c.running = false
			c.syncMu.Unlock()
			return
		}
		c.syncMu.Unlock()
		lastStart = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.err = c.pollSince(ctx)
		cancel()
		close(r.done)
	}
}

func (c *revocationCache) apply(r revokedTokenRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Kind == revokedSubject {
		if c.subjects == nil {
			c.subjects = map[string]time.Time{}
		}
		sub := strings.TrimPrefix(r.ID, "subject:")
		if r.RevokedAt.After(c.subjects[sub]) {
			c.subjects[sub] = r.RevokedAt
		}
		return
	}
	c.m[r.ID] = r.ExpiresAt
}

// poll loads revocations made since the last poll (by any replica) and
// forgets expired ones (the periodic background refresh).
func (c *revocationCache) poll(ctx context.Context) error {
	if err := c.pollSince(ctx); err != nil {
		return err
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, exp := range c.m {
		if !now.Before(exp) {
			delete(c.m, id)
		}
	}
	for sub, at := range c.subjects {
		if now.Sub(at) > clients.MaxTokenTTL+time.Hour {
			delete(c.subjects, sub)
		}
	}
	return nil
}

// pollSince loads the revocations recorded since the last poll, with an
// overlap for commit delay and clock skew between replicas.
func (c *revocationCache) pollSince(ctx context.Context) error {
	now := c.now()
	c.mu.RLock()
	since := c.lastPoll
	c.mu.RUnlock()
	q := database.Conn(ctx, c.db).Where("expires_at > ?", now)
	if !since.IsZero() {
		q = q.Where("revoked_at >= ?", since.Add(-revocationPollOverlap))
	}
	var rows []revokedTokenRow
	if err := q.Find(&rows).Error; err != nil {
		return fmt.Errorf("oidc: poll revocations: %w", err)
	}
	for _, r := range rows {
		c.apply(r)
	}
	c.mu.Lock()
	if now.After(c.lastPoll) {
		c.lastPoll = now
	}
	c.mu.Unlock()
	return nil
}

func (c *revocationCache) purge(ctx context.Context) error {
	return database.Conn(ctx, c.db).Where("expires_at < ?", c.now().Add(-time.Hour)).Delete(&revokedTokenRow{}).Error
}

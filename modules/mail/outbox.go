package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
)

// outboxRow is a mail_outbox row. A row is due when sent_at and the claim
// are empty (or the claim expired) and next_attempt_at has passed; a
// message given up on keeps sent_at empty and loses next_attempt_at.
type outboxRow struct {
	ID            string `gorm:"primaryKey"`
	To            string `gorm:"column:to"`
	Subject       string
	Text          string
	HTML          string `gorm:"column:html"`
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt *time.Time
	SentAt        *time.Time
	LastError     string
	ClaimedUntil  *time.Time
}

func (outboxRow) TableName() string { return "mail_outbox" }

// claimSQL takes up to n due rows for one worker until the lease ends and
// counts the attempt. On PostgreSQL FOR UPDATE SKIP LOCKED lets concurrent
// workers (replicas) take disjoint rows without waiting on each other; on
// SQLite the single writer makes the UPDATE atomic, and the condition on
// claimed_until is the compare-and-swap.
const claimSQL = `UPDATE mail_outbox SET claimed_until = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM mail_outbox
  WHERE sent_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
  ORDER BY next_attempt_at, id LIMIT ?%s)
AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)
RETURNING id, "to", subject, text, html, created_at, attempts, next_attempt_at, sent_at, last_error, claimed_until`

func (s *Service) claim(ctx context.Context, n int) ([]outboxRow, error) {
	now := s.now()
	until := now.Add(s.opts.Lease)
	lock := ""
	if s.db.Dialect == database.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rows []outboxRow
	err := s.db.Gorm.WithContext(ctx).Raw(fmt.Sprintf(claimSQL, lock), until, now, now, n, now).Scan(&rows).Error
	return rows, err
}

// markSent records delivery. Only the claim's holder may: each claim counts
// an attempt, so a worker whose lease ran out and was re-claimed no longer
// matches, and cannot overwrite the newer claim's outcome.
func (s *Service) markSent(ctx context.Context, r outboxRow) error {
	now := s.now()
	// The bodies carry one-time links in clear; once the message is with
	// the mail server they are not kept.
	return s.db.Gorm.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND attempts = ?", r.ID, r.Attempts).
		Updates(map[string]any{"sent_at": now, "claimed_until": nil, "last_error": "", "text": "", "html": ""}).Error
}

// markFailed records an attempt's error and when to try again (next nil:
// never, the message is given up on, and its bodies are dropped).
func (s *Service) markFailed(ctx context.Context, r outboxRow, msg string, next *time.Time) error {
	upd := map[string]any{"next_attempt_at": next, "claimed_until": nil, "last_error": msg}
	if next == nil {
		upd["text"], upd["html"] = "", ""
	}
	return s.db.Gorm.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND attempts = ?", r.ID, r.Attempts).
		Updates(upd).Error
}

// purge deletes the finished messages (sent, or given up on) enqueued more
// than Retention ago; messages still to send are never deleted.
func (s *Service) purge(ctx context.Context) error {
	return s.db.Gorm.WithContext(ctx).
		Where("created_at < ? AND (sent_at IS NOT NULL OR next_attempt_at IS NULL)", s.now().Add(-s.opts.Retention)).
		Delete(&outboxRow{}).Error
}

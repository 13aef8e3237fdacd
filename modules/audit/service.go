// Package audit is the append-only record of security events. Every module
// records through Service.Record with the context of its own change, so the
// event is written in the same transaction (database.Transact) as the change
// it describes: either both persist or neither does.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// Service records and lists audit events.
type Service struct {
	db  *gorm.DB
	now func() time.Time
}

// New returns the audit service over db. Audit depends on nothing: every
// other module records through it.
func New(db database.DB) *Service {
	return &Service{db: db.Gorm, now: func() time.Time { return time.Now().UTC() }}
}

// Record appends e. Actor, IP and user agent default to the principal and
// request in ctx; the write joins the transaction in ctx, if any.
func (s *Service) Record(ctx context.Context, e Event) error {
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("audit: new id: %w", err)
		}
		e.ID = id.String()
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	// Microseconds are what PostgreSQL keeps; truncating here makes both
	// dialects store and page through the same values.
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Actor.Type == "" {
		if p, ok := principal.From(ctx); ok {
			e.Actor = Ref{Type: string(p.Kind), ID: p.ID}
		} else {
			e.Actor = Ref{Type: "anonymous"}
		}
	}
	req := principal.RequestFrom(ctx)
	if e.IP == "" {
		e.IP = req.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = req.UserAgent
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	row := toRow(e)
	if err := database.Conn(ctx, s.db).Create(&row).Error; err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

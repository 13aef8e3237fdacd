package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"
)

// List returns events matching f, newest first (time desc, id desc). The page
// token is opaque to callers: base64url of the last returned event's time and
// id, so pages stay stable while new events are appended (keyset pagination:
// an event recorded between two page reads never shifts or duplicates rows).
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	size, err := page.Size(f.PageSize)
	if err != nil {
		return Page{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return Page{}, validation.Field("query.since", "is after until")
	}
	q := database.Conn(ctx, s.db).Model(&eventRow{})
	if f.ActorType != "" {
		q = q.Where("actor_type = ?", f.ActorType)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		q = q.Where("time >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("time <= ?", f.Until.UTC())
	}
	if f.PageToken != "" {
		after, err := page.Decode(f.PageToken, 2)
		if err != nil {
			return Page{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, after[0])
		if err != nil {
			return Page{}, page.ErrBadToken
		}
		t, id := t.UTC(), after[1]
		// "time <= t" alone bounds the index range on both databases; the
		// OR then drops the rows at t already returned.
		q = q.Where("time <= ? AND (time < ? OR (time = ? AND id < ?))", t, t, t, id)
	}
	var rows []eventRow
	if err := q.Order("time DESC").Order("id DESC").Limit(size + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	return page.Cut(rows, size,
		func(r eventRow) []string { return []string{r.Time.UTC().Format(time.RFC3339Nano), r.ID} },
		eventRow.toEvent), nil
}

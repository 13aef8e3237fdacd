package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
)

// Page sizes for List: a zero PageSize means DefaultPageSize; more than
// MaxPageSize is an error.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ErrInvalidFilter is returned by List for a filter it cannot apply (a page
// size out of range, a malformed page token, since after until). The wrapped
// message names the field.
var ErrInvalidFilter = errors.New("audit: invalid filter")

// List returns events matching f, newest first (time desc, id desc). The page
// token is opaque to callers: base64url of the last returned event's time and
// id, so pages stay stable while new events are appended (keyset pagination:
// an event recorded between two page reads never shifts or duplicates rows).
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	size := f.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 0 || size > MaxPageSize {
		return Page{}, fmt.Errorf("%w: page_size must be between 1 and %d", ErrInvalidFilter, MaxPageSize)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return Page{}, fmt.Errorf("%w: since is after until", ErrInvalidFilter)
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
		t, id, err := decodeCursor(f.PageToken)
		if err != nil {
			return Page{}, err
		}
		q = q.Where("(time < ? OR (time = ? AND id < ?))", t, t, id)
	}
	var rows []eventRow
	if err := q.Order("time DESC").Order("id DESC").Limit(size + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	page := Page{Items: make([]Event, 0, min(len(rows), size))}
	for i, r := range rows {
		if i == size {
			last := rows[size-1]
			page.NextPageToken = encodeCursor(last.Time, last.ID)
			break
		}
		page.Items = append(page.Items, r.toEvent())
	}
	return page, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(tok string) (time.Time, string, error) {
	bad := fmt.Errorf("%w: page_token is not a token this API returned", ErrInvalidFilter)
	if len(tok) > 200 {
		return time.Time{}, "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", bad
	}
	return t.UTC(), id, nil
}

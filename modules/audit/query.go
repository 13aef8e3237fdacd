package audit

import (
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// Query is an audit log filter as a caller typed it: the query parameters of
// GET /api/v1/audit-events and the fields of the console's audit page (and
// its export). Filter parses it, so both read the same text the same way.
type Query struct {
	// Actor is an id, or type:id with one of ActorTypes.
	Actor string
	// Action is an exact action, e.g. user.create.
	Action string
	// Target is type:id, or an id alone (any type).
	Target string
	// Since and Until bound the time, both inclusive: RFC 3339.
	Since, Until string
	// ZonelessUTC also accepts a time without an offset, read as UTC: what
	// an HTML datetime-local input sends ("2025-03-01T12:00").
	ZonelessUTC bool
}

// ActorTypes are the principal kinds (and "anonymous") Record writes; an
// actor filter "user:<id>" names the type as well as the id.
var ActorTypes = []string{"user", "service", "client", "system", "anonymous"}

// Filter parses q into the first page's Filter. A malformed value is a
// *validation.Error whose field is the query parameter (query.since, …).
func (q Query) Filter() (Filter, error) {
	f := Filter{ActorID: q.Actor, Action: q.Action}
	if typ, id, ok := strings.Cut(q.Actor, ":"); ok && slices.Contains(ActorTypes, typ) {
		if id == "" {
			return Filter{}, validation.Field("query.actor", "must be an id or type:id, such as user:<id>")
		}
		f.ActorType, f.ActorID = typ, id
	}
	if q.Target != "" {
		if typ, id, ok := strings.Cut(q.Target, ":"); ok {
			if typ == "" || id == "" {
				return Filter{}, validation.Field("query.target", "must be type:id, such as user:<id>, or an id")
			}
			f.TargetType, f.TargetID = typ, id
		} else {
			f.TargetID = q.Target
		}
	}
	var err error
	if f.Since, err = q.parseTime("query.since", q.Since); err != nil {
		return Filter{}, err
	}
	if f.Until, err = q.parseTime("query.until", q.Until); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// zonelessLayouts are the forms a datetime-local input sends: minutes,
// seconds (step="1") or fractions of a second.
var zonelessLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"}

// parseTime reads one bound; empty is no bound. A time outside the years
// 1..9999 (UTC) is refused: it would read as "no bound" (the zero time) or
// not sort as text (SQLite compares times as text).
func (q Query) parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && q.ZonelessUTC {
		for _, layout := range zonelessLayouts {
			if t, err = time.Parse(layout, v); err == nil {
				break
			}
		}
	}
	switch {
	case err != nil && q.ZonelessUTC:
		return time.Time{}, validation.Field(field, "must be a date and time in UTC such as 2025-01-02T15:04")
	case err != nil:
		return time.Time{}, validation.Field(field, "must be an RFC 3339 time such as 2025-01-02T15:04:05Z")
	}
	t = t.UTC()
	if !t.After(time.Time{}) || t.Year() > 9999 {
		return time.Time{}, validation.Field(field, "must be between the years 1 and 9999 (UTC)")
	}
	return t, nil
}

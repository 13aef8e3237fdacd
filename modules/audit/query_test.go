package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
)

func TestQueryFilter(t *testing.T) {
	for _, tt := range []struct {
		name string
		q    audit.Query
		want audit.Filter
	}{
		{"empty", audit.Query{}, audit.Filter{}},
		{"actor id", audit.Query{Actor: "alice"}, audit.Filter{ActorID: "alice"}},
		{"actor type:id", audit.Query{Actor: "system:gatehouse"}, audit.Filter{ActorType: "system", ActorID: "gatehouse"}},
		{"actor with a colon of no known type", audit.Query{Actor: "urn:x"}, audit.Filter{ActorID: "urn:x"}},
		{"action", audit.Query{Action: "user.create"}, audit.Filter{Action: "user.create"}},
		{"target type:id", audit.Query{Target: "api_key:k1"}, audit.Filter{TargetType: "api_key", TargetID: "k1"}},
		{"target id", audit.Query{Target: "k1"}, audit.Filter{TargetID: "k1"}},
		{"target id with colons", audit.Query{Target: "role:a:b"}, audit.Filter{TargetType: "role", TargetID: "a:b"}},
		{"RFC 3339 times to UTC", audit.Query{Since: "2025-03-01T13:00:00+01:00", Until: "2025-03-01T12:30:00.5Z"},
			audit.Filter{Since: t0, Until: t0.Add(30*time.Minute + 500*time.Millisecond)}},
		{"zoneless minutes as UTC", audit.Query{Since: "2025-03-01T12:00", ZonelessUTC: true}, audit.Filter{Since: t0}},
		{"zoneless seconds as UTC", audit.Query{Until: "2025-03-01T12:00:07", ZonelessUTC: true}, audit.Filter{Until: t0.Add(7 * time.Second)}},
		{"zoneless fraction as UTC", audit.Query{Until: "2025-03-01T12:00:07.25", ZonelessUTC: true}, audit.Filter{Until: t0.Add(7250 * time.Millisecond)}},
		{"RFC 3339 with zoneless allowed", audit.Query{Since: "2025-03-01T12:00:00Z", ZonelessUTC: true}, audit.Filter{Since: t0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.q.Filter()
			if err != nil {
				t.Fatal(err)
			}
			if !got.Since.Equal(tt.want.Since) || !got.Until.Equal(tt.want.Until) {
				t.Fatalf("times %v..%v, want %v..%v", got.Since, got.Until, tt.want.Since, tt.want.Until)
			}
			if (!got.Since.IsZero() && got.Since.Location() != time.UTC) || (!got.Until.IsZero() && got.Until.Location() != time.UTC) {
				t.Fatalf("times not in UTC: %v %v", got.Since, got.Until)
			}
			got.Since, got.Until, tt.want.Since, tt.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tt.want {
				t.Fatalf("filter %+v, want %+v", got, tt.want)
			}
		})
	}

	for _, tt := range []struct {
		name, field string
		q           audit.Query
	}{
		{"actor type without id", "query.actor", audit.Query{Actor: "user:"}},
		{"target without id", "query.target", audit.Query{Target: "user:"}},
		{"target without type", "query.target", audit.Query{Target: ":k1"}},
		{"since a word", "query.since", audit.Query{Since: "yesterday"}},
		{"until a bad month", "query.until", audit.Query{Until: "2025-13-01T00:00:00Z"}},
		{"zoneless refused by default", "query.since", audit.Query{Since: "2025-03-01T12:00"}},
		{"zoneless bad day", "query.until", audit.Query{Until: "2025-02-30T12:00", ZonelessUTC: true}},
		{"date alone", "query.since", audit.Query{Since: "2025-03-01", ZonelessUTC: true}},
		{"space instead of T", "query.since", audit.Query{Since: "2025-03-01 12:00", ZonelessUTC: true}},
		{"the zero time", "query.until", audit.Query{Until: "0001-01-01T00:00:00Z"}},
		{"year 0", "query.since", audit.Query{Since: "0000-06-01T00:00", ZonelessUTC: true}},
		{"past 9999 in UTC", "query.until", audit.Query{Until: "9999-12-31T23:00:00-02:00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.q.Filter()
			ve, ok := validation.As(err)
			if !ok || ve.Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
			if tt.q.ZonelessUTC && !strings.Contains(ve.Message, "UTC") {
				t.Errorf("message %q does not say the time is UTC", ve.Message)
			}
		})
	}
}

// FuzzQueryFilter feeds arbitrary text to the filter parser (the API's query
// and the console's form): it never panics, every error names a query
// parameter, and what it accepts means what was typed: the target splits
// back to the text, times are UTC and survive an RFC 3339 round trip.
func FuzzQueryFilter(f *testing.F) {
	for _, s := range [][4]string{
		{"alice", "k1", "2025-03-01T12:00:00Z", ""},
		{"user:u1", "api_key:k1", "2025-03-01T13:00:00+01:00", "2025-03-01T12:30"},
		{"system:", ":x", "yesterday", "2025-02-30T12:00"},
		{"urn:x:y", "role:a:b", "2025-03-01T12:00:07.123456789", "9999-12-31T23:59:59.999999999-23:59"},
		{"", "", "0000-01-01T00:00", "2025-03-01T12:00:00.Z"},
	} {
		f.Add(s[0], s[1], s[2], s[3], true)
		f.Add(s[0], s[1], s[2], s[3], false)
	}
	f.Fuzz(func(t *testing.T, actor, target, since, until string, zoneless bool) {
		q := audit.Query{Actor: actor, Target: target, Since: since, Until: until, ZonelessUTC: zoneless}
		got, err := q.Filter()
		if err != nil {
			ve, ok := validation.As(err)
			if !ok || !strings.HasPrefix(ve.Field, "query.") {
				t.Fatalf("error %v does not name a query parameter", err)
			}
			return
		}
		if got.ActorType != "" && got.ActorType+":"+got.ActorID != actor || got.ActorType == "" && got.ActorID != actor {
			t.Fatalf("actor %q read as %q %q", actor, got.ActorType, got.ActorID)
		}
		if got.TargetType != "" && got.TargetType+":"+got.TargetID != target || got.TargetType == "" && got.TargetID != target {
			t.Fatalf("target %q read as %q %q", target, got.TargetType, got.TargetID)
		}
		if got.TargetType != "" && got.TargetID == "" {
			t.Fatalf("target %q read with a type and no id", target)
		}
		for _, tm := range []struct {
			text string
			got  time.Time
		}{{since, got.Since}, {until, got.Until}} {
			if tm.got.IsZero() != (tm.text == "") {
				t.Fatalf("%q read as %v: a bound typed must be a bound read, and only then", tm.text, tm.got)
			}
			if tm.got.IsZero() {
				continue
			}
			if tm.got.Location() != time.UTC {
				t.Fatalf("%q read as %v, not UTC", tm.text, tm.got)
			}
			back, err := audit.Query{Since: tm.got.Format(time.RFC3339Nano)}.Filter()
			if err != nil || !back.Since.Equal(tm.got) {
				t.Fatalf("%q read as %v, which does not round-trip (%v, %v)", tm.text, tm.got, back.Since, err)
			}
		}
	})
}

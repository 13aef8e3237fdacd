package database

import (
	"fmt"
	"strings"
	"time"
)

// sqliteTimeLayouts are the layouts glebarez/go-sqlite reads timestamps in;
// the first is the one it writes time.Time values in.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// NullTime scans a timestamp column read with database/sql: a time.Time
// (PostgreSQL), or on SQLite the column's text. The SQLite driver parses
// a column declared DATETIME itself, first trying the layout of
// time.Time.String (which never matches what it wrote) and then its list:
// two parses a value, a tenth of a 50-user page's CPU. Selecting the column
// as CAST(col AS TEXT) hands over the text, parsed here once in the layout
// the driver wrote it in. NULL leaves Valid false; times are UTC.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	n.Time, n.Valid = time.Time{}, v != nil
	switch v := v.(type) {
	case nil:
		return nil
	case time.Time:
		n.Time = v.UTC()
		return nil
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	default:
		return fmt.Errorf("database: cannot scan %T into a time", v)
	}
}

func (n *NullTime) parse(s string) error {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			n.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("database: %q is not a timestamp", s)
}

// TimeText is the select-list expression for a timestamp column scanned
// into NullTime: CAST(col AS TEXT) on SQLite, col on PostgreSQL.
func (d Dialect) TimeText(col string) string {
	if d == SQLite {
		return "CAST(" + col + " AS TEXT)"
	}
	return col
}

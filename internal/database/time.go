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
	if t, ok := parseSQLiteTime(s); ok {
		n.Time = t
		return nil
	}
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

// parseSQLiteTime reads the layout the SQLite driver writes,
// "2006-01-02 15:04:05.999999999-07:00", without time.Parse's general
// machinery (which was still an eighth of a users page). Anything else —
// or any field out of range — is left to time.Parse (false).
func parseSQLiteTime(s string) (time.Time, bool) {
	if len(s) < 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	i, nsec := 19, 0
	if s[i] == '.' {
		i++
		digits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if digits == 9 {
				return time.Time{}, false
			}
			nsec = nsec*10 + int(s[i]-'0')
			i++
			digits++
		}
		if digits == 0 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	if len(s)-i != 6 || (s[i] != '+' && s[i] != '-') || s[i+3] != ':' {
		return time.Time{}, false
	}
	zh, zm := num(i+1, 2), num(i+4, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || zh < 0 || zh > 23 || zm < 0 || zm > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April is out of range, not 1 May
		return time.Time{}, false
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if s[i] == '+' {
		offset = -offset
	}
	return t.Add(offset), true
}

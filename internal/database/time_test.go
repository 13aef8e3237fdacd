package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestNullTime: a timestamp written through gorm reads back the same
// through NullTime and TimeText on both databases, NULL included.
func TestNullTime(t *testing.T) {
	type stamped struct {
		ID   string `gorm:"primaryKey"`
		At   time.Time
		Gone *time.Time
	}
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		if err := db.Gorm.Table("dbtest_stamps").AutoMigrate(&stamped{}); err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 12, 1, 14, 39, 44, 518996000, time.FixedZone("x", 3600))
		for i, at := range []time.Time{want, want.Truncate(time.Second)} {
			id := string(rune('a' + i))
			if err := db.Gorm.Table("dbtest_stamps").Create(&stamped{ID: id, At: at}).Error; err != nil {
				t.Fatal(err)
			}
			var got, null database.NullTime
			q := "SELECT " + db.Dialect.TimeText("at") + ", " + db.Dialect.TimeText("gone") + " FROM dbtest_stamps WHERE id = '" + id + "'"
			if err := db.SQL().QueryRowContext(context.Background(), q).Scan(&got, &null); err != nil {
				t.Fatal(err)
			}
			if !got.Valid || !got.Time.Equal(at) || got.Time.Location() != time.UTC {
				t.Errorf("read %v (valid %v), want %v in UTC", got.Time, got.Valid, at)
			}
			if null.Valid {
				t.Errorf("NULL read as %v", null.Time)
			}
		}
	})
	var n database.NullTime
	for _, s := range []string{"2026-12-01 14:39:44Z", "2026-12-01T14:39:44.5", "2026-12-01"} {
		if err := n.Scan(s); err != nil || !n.Valid {
			t.Errorf("Scan(%q): %v", s, err)
		}
	}
	if err := n.Scan("yesterday"); err == nil {
		t.Error("Scan(yesterday) succeeded")
	}
}

// FuzzNullTime: whatever the text, NullTime reads the same instant as
// time.Parse in the driver's layouts, or refuses it as they do.
func FuzzNullTime(f *testing.F) {
	for _, s := range []string{"2026-12-01 14:39:44.518996+00:00", "2026-12-01 14:39:44-05:30", "2026-04-31 00:00:00+00:00",
		"2026-12-01 14:39:44.1234567891+00:00", "2026-12-01 14:39:44.+00:00", "2026-12-01T14:39:44Z", "0000-01-01 00:00:00+23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n database.NullTime
		err := n.Scan(s)
		var want time.Time
		var wantErr error = errNoLayout
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04:05",
			"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
			if tm, e := time.ParseInLocation(layout, strings.TrimSuffix(s, "Z"), time.UTC); e == nil {
				want, wantErr = tm, nil
				break
			}
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Scan(%q) error %v, time.Parse error %v", s, err, wantErr)
		}
		if err == nil && !n.Time.Equal(want) {
			t.Fatalf("Scan(%q) = %v, time.Parse = %v", s, n.Time, want)
		}
	})
}

var errNoLayout = errors.New("no layout")

package database_test

import (
	"context"
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

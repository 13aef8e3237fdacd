package testutil

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
)

// Outbox returns the messages queued in mail_outbox (sent or not), oldest
// first, with Body the plain-text part: what a module's change enqueued,
// for tests that run the mail service without delivering.
func Outbox(t testing.TB, db database.DB) []Mail {
	t.Helper()
	var rows []struct {
		To, Subject, Text string
	}
	if err := db.Gorm.Raw(`SELECT "to", subject, text FROM mail_outbox ORDER BY created_at, id`).Scan(&rows).Error; err != nil {
		t.Fatalf("read mail_outbox: %v", err)
	}
	out := make([]Mail, len(rows))
	for i, r := range rows {
		out[i] = Mail{To: r.To, Subject: r.Subject, Body: r.Text}
	}
	return out
}

package mail

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestFinishedMessagesKeepNoLinks: a message sent or given up on keeps its
// recipient, subject and outcome but not its bodies (they carry one-time
// links in clear); Retention after it was enqueued it is deleted, while a
// message still to send keeps everything however old.
func TestFinishedMessagesKeepNoLinks(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		srv.Reject = "nobody@example.test"
		clock := testutil.NewClock(time.Now())
		s := newTestService(t, db, srv, Options{Now: clock.Now, RetryBase: time.Hour, RetryMax: time.Hour})
		ctx := context.Background()
		enqueue(t, s, "alice@example.test")  // sent
		enqueue(t, s, "nobody@example.test") // given up (550)
		if n, err := s.DeliverDue(ctx); err != nil || n != 2 {
			t.Fatalf("DeliverDue = %d, %v", n, err)
		}
		srv.Stop()
		enqueue(t, s, "carol@example.test") // still to send: the server is down
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("claimed %d, want 1", n)
		}
		rows := func() map[string]outboxRow {
			var all []outboxRow
			if err := db.Gorm.Find(&all).Error; err != nil {
				t.Fatal(err)
			}
			m := map[string]outboxRow{}
			for _, r := range all {
				m[r.To] = r
			}
			return m
		}
		before := rows()
		for _, to := range []string{"alice@example.test", "nobody@example.test"} {
			if r := before[to]; r.Text != "" || r.HTML != "" || r.Subject == "" {
				t.Errorf("finished message to %s kept its bodies (or lost its subject): %+v", to, r)
			}
		}
		if r := before["carol@example.test"]; r.Text == "" || r.HTML == "" {
			t.Errorf("a message still to send lost its bodies: %+v", r)
		}

		clock.Advance(s.opts.Retention - time.Minute)
		if err := s.purge(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(rows()); n != 3 {
			t.Fatalf("%d rows before Retention, want 3", n)
		}
		clock.Advance(2 * time.Minute)
		if err := s.purge(ctx); err != nil {
			t.Fatal(err)
		}
		after := rows()
		if len(after) != 1 || after["carol@example.test"].Text == "" {
			t.Fatalf("after Retention: %+v, want only the pending message, whole", after)
		}
	})
}

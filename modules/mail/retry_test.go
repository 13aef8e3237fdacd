package mail

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestBackoffSchedule: the default delays double from 1 s, are capped at
// 30 s, and each lies in [d/2, d] for its nominal d.
func TestBackoffSchedule(t *testing.T) {
	s, err := New(testutil.NewSQLite(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	nominal := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, d := range nominal {
		seen := map[time.Duration]bool{}
		for range 200 {
			got := s.backoff(i + 1)
			if got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", i+1, got, d/2, d)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d): always %v, want jitter", i+1, seen)
		}
	}
}

// TestMailClaimOfDeadWorkerExpires: a worker that claimed messages and
// died before recording an outcome (a replica killed mid-send) holds them
// only until its lease ends; then another worker sends them, once, and a
// late outcome from the first cannot overwrite the second's.
func TestMailClaimOfDeadWorkerExpires(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		clock := testutil.NewClock(time.Now())
		dead := newTestService(t, db, srv, Options{Now: clock.Now})
		alive := newTestService(t, db, srv, Options{Now: clock.Now})
		ctx := context.Background()
		enqueue(t, dead, "lease1@example.test")
		enqueue(t, dead, "lease2@example.test")
		claimed, err := dead.claim(ctx, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim = %d rows, %v", len(claimed), err)
		}
		if n, _ := alive.DeliverDue(ctx); n != 0 {
			t.Fatalf("a live claim was taken over: %d", n)
		}
		clock.Advance(dead.opts.Lease - time.Second)
		if n, _ := alive.DeliverDue(ctx); n != 0 {
			t.Fatalf("taken over before the lease ended: %d", n)
		}
		clock.Advance(2 * time.Second)
		if n, err := alive.DeliverDue(ctx); err != nil || n != 2 {
			t.Fatalf("after the lease DeliverDue = %d, %v; want 2", n, err)
		}
		// The dead worker's outcome arrives late: it no longer holds the claim.
		if err := dead.markFailed(ctx, claimed[0], "late", nil); err != nil {
			t.Fatal(err)
		}
		var row outboxRow
		db.Gorm.Where("id = ?", claimed[0].ID).Take(&row)
		if row.SentAt == nil || row.LastError != "" {
			t.Errorf("a stale outcome overwrote the delivery: %+v", row)
		}
		clock.Advance(time.Hour)
		if n, _ := alive.DeliverDue(ctx); n != 0 {
			t.Errorf("sent messages claimed again: %d", n)
		}
		if m := srv.Mails(); len(m) != 2 {
			t.Errorf("%d mails, want 2", len(m))
		}
	})
}

// TestMailGivenUpAfterADay: a message the server refuses temporarily is
// retried on the schedule, and given up (counted, no longer pending) once
// the next attempt would fall more than GiveUpAfter after it was queued.
func TestMailGivenUpAfterADay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		srv.Stop()
		clock := testutil.NewClock(time.Now())
		s := newTestService(t, db, srv, Options{Now: clock.Now})
		ctx := context.Background()
		enqueue(t, s, "late@example.test")
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("first attempt claimed %d", n)
		}
		clock.Advance(23 * time.Hour)
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("attempt after 23 h claimed %d", n)
		}
		if st, _ := s.Stats(ctx); st.Retried != 2 || st.Failed != 0 || st.Pending != 1 {
			t.Fatalf("after 23 h: %+v", st)
		}
		clock.Advance(time.Hour)
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("attempt after 24 h claimed %d", n)
		}
		if st, _ := s.Stats(ctx); st.Retried != 2 || st.Failed != 1 || st.Pending != 0 {
			t.Fatalf("after 24 h: %+v", st)
		}
		clock.Advance(time.Hour)
		srv.Start()
		if n, _ := s.DeliverDue(ctx); n != 0 || len(srv.Mails()) != 0 {
			t.Errorf("a given-up message was claimed (%d) or sent (%d)", n, len(srv.Mails()))
		}
	})
}

// TestMailGivenUpLogsOneErrorLine: a bounced message writes exactly one
// error-level line, with its id and the server's answer, and neither the
// body (which holds the link), the recipient nor the SMTP password.
func TestMailGivenUpLogsOneErrorLine(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		srv.Reject = "bounce@example.test"
		var buf strings.Builder
		var mu sync.Mutex
		s := newTestService(t, db, srv, Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))})
		enqueue(t, s, "bounce@example.test")
		if n, _ := s.DeliverDue(context.Background()); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		var id string
		db.Gorm.Raw(`SELECT id FROM mail_outbox`).Scan(&id)
		mu.Lock()
		defer mu.Unlock()
		var errLines []string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "level=ERROR") {
				errLines = append(errLines, l)
			}
		}
		if len(errLines) != 1 || !strings.Contains(errLines[0], id) || !strings.Contains(errLines[0], "550") {
			t.Fatalf("error lines: %q", errLines)
		}
		for _, secret := range []string{"token=abc", "bounce@example.test", "secret"} {
			if strings.Contains(buf.String(), secret) {
				t.Errorf("the log holds %q:\n%s", secret, buf.String())
			}
		}
	})
}

package mail

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

func newTestService(t *testing.T, db database.DB, srv *testutil.SMTPServer, opts Options) *Service {
	t.Helper()
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	opts.Server = &Server{Host: host, Port: p, Username: "test", Password: "secret", InsecureSkipVerify: true,
		ImplicitTLS: strings.HasPrefix(srv.URL(), "smtps:")}
	opts.From = "Gatehouse <gatehouse@example.test>"
	opts.Issuer = "http://localhost:8080"
	opts.SendTimeout = 5 * time.Second
	s, err := New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func enqueue(t *testing.T, s *Service, to string) {
	t.Helper()
	err := database.Transact(context.Background(), s.db.Gorm, func(ctx context.Context) error {
		return s.Notify(ctx, TemplateReset, to, map[string]string{"link": "http://localhost:8080/password/reset?token=abc", "expires": "soon"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMailDeliveredOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		s := newTestService(t, db, srv, Options{})
		if !s.Delivers() {
			t.Fatal("Delivers() = false with an SMTP server")
		}
		ctx := context.Background()
		enqueue(t, s, "alice@example.test")
		// A message enqueued in a transaction that rolls back never exists.
		errRollback := errors.New("rollback")
		err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error {
			if err := s.Enqueue(ctx, Message{To: "bob@example.test", Subject: "x", Text: "y"}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if n, err := s.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("DeliverDue = %d, %v; want 1", n, err)
		}
		if n, err := s.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("second DeliverDue = %d, %v; want 0", n, err)
		}
		mails := srv.Mails()
		if len(mails) != 1 || mails[0].To != "alice@example.test" || mails[0].Subject != "Reset your Gatehouse password" {
			t.Fatalf("mails = %+v", mails)
		}
		if !strings.Contains(mails[0].Body, "http://localhost:8080/password/reset?token=abc") || !strings.Contains(mails[0].Raw, "text/html") {
			t.Errorf("body lacks the link or the HTML part:\n%s", mails[0].Raw)
		}
		st, err := s.Stats(ctx)
		if err != nil || st.Sent != 1 || st.Pending != 0 {
			t.Errorf("Stats = %+v, %v", st, err)
		}
	})
}

func TestMailRetriedWhileServerDown(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		clock := testutil.NewClock(time.Now())
		s := newTestService(t, db, srv, Options{Now: clock.Now, RetryBase: time.Minute})
		ctx := context.Background()
		srv.Stop()
		enqueue(t, s, "carol@example.test")
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("claimed %d, want 1", n)
		}
		st, _ := s.Stats(ctx)
		if st.Retried != 1 || st.Pending != 1 {
			t.Fatalf("after a failure: %+v", st)
		}
		srv.Start()
		if n, _ := s.DeliverDue(ctx); n != 0 {
			t.Fatalf("retried before the backoff: %d", n)
		}
		clock.Advance(61 * time.Second)
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("after the backoff claimed %d, want 1", n)
		}
		clock.Advance(time.Hour)
		_, _ = s.DeliverDue(ctx)
		if m := srv.Mails(); len(m) != 1 {
			t.Fatalf("%d mails, want 1", len(m))
		}
	})
}

func TestMailPermanentFailure(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		srv.Reject = "nobody@example.test"
		s := newTestService(t, db, srv, Options{})
		ctx := context.Background()
		enqueue(t, s, "nobody@example.test")
		enqueue(t, s, "dave@example.test")
		if n, _ := s.DeliverDue(ctx); n != 2 {
			t.Fatalf("claimed %d", n)
		}
		st, _ := s.Stats(ctx)
		if st.Failed != 1 || st.Sent != 1 || st.Pending != 0 {
			t.Fatalf("Stats = %+v", st)
		}
		var row outboxRow
		db.Gorm.Where(`"to" = ?`, "nobody@example.test").Take(&row)
		if row.SentAt != nil || row.NextAttemptAt != nil || !strings.Contains(row.LastError, "550") {
			t.Errorf("given-up row = %+v", row)
		}
	})
}

// TestMailConcurrentWorkers runs workers that claim at once against one
// database (two replicas): every message arrives exactly once.
func TestMailConcurrentWorkers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		const n = 60
		workers := []*Service{
			newTestService(t, db, srv, Options{Batch: 7}),
			newTestService(t, db, srv, Options{Batch: 5}),
			newTestService(t, db, srv, Options{Batch: 3}),
		}
		for i := range n {
			enqueue(t, workers[0], "user"+strconv.Itoa(i)+"@example.test")
		}
		start := time.Now()
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() {
				for {
					k, err := w.DeliverDue(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if k == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		mails := srv.WaitFor(n, 10*time.Second)
		t.Logf("%s: %d messages in %s (%.0f/s)", db.Dialect, n, time.Since(start), float64(n)/time.Since(start).Seconds())
		seen := map[string]int{}
		for _, m := range mails {
			seen[m.To]++
		}
		for to, k := range seen {
			if k != 1 {
				t.Errorf("%s got %d messages", to, k)
			}
		}
		if len(mails) != n || len(seen) != n {
			t.Errorf("%d mails to %d addresses, want %d", len(mails), len(seen), n)
		}
	})
}

func TestMailWithoutServerLogsLinks(t *testing.T) {
	db := testutil.NewSQLite(t)
	var buf strings.Builder
	var mu sync.Mutex
	s, err := New(db, Options{Issuer: "http://localhost:8080", Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivers() {
		t.Fatal("Delivers() = true without an SMTP server")
	}
	enqueue(t, s, "erin@example.test")
	if n, _ := s.DeliverDue(context.Background()); n != 1 {
		t.Fatal("not claimed")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "http://localhost:8080/password/reset?token=abc") {
		t.Errorf("log lacks the link: %s", buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestTemplatesRender(t *testing.T) {
	tm, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range templateNames {
		m, err := tm.render(name, "Gatehouse", "https://id.example.test", "a@example.test",
			map[string]string{"link": "https://id.example.test/x?token=a&b=<c>", "detail": "Your password was changed.", "expires": "tomorrow", "new_email": "n@example.test"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Subject == "" || strings.Contains(m.Subject, "\n") || m.Text == "" {
			t.Errorf("%s: %+v", name, m)
		}
		if strings.Contains(m.HTML, "<c>") || strings.Contains(m.HTML, "<img") {
			t.Errorf("%s: HTML not escaped or has an image: %s", name, m.HTML)
		}
	}
	if _, err := tm.render(TemplateReset, "G", "I", "a@b.c", map[string]string{"bogus": "x"}); err == nil {
		t.Error("unknown variable accepted")
	}
}

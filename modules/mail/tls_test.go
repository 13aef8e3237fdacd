package mail

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestMailImplicitTLS: an smtps:// server (TLS from the first byte, port
// 465 style) gets the message, authenticated inside TLS.
func TestMailImplicitTLS(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServerMode(t, testutil.SMTPImplicitTLS)
		s := newTestService(t, db, srv, Options{})
		enqueue(t, s, "tls@example.test")
		if n, err := s.DeliverDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("DeliverDue = %d, %v", n, err)
		}
		mails := srv.Mails()
		if len(mails) != 1 || mails[0].To != "tls@example.test" || srv.Auths() != 1 {
			t.Fatalf("mails %+v, auths %d", mails, srv.Auths())
		}
		if st, _ := s.Stats(context.Background()); st.Sent != 1 || st.Pending != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// TestMailNeverSendsPasswordInClear: an smtp:// server that offers no
// STARTTLS (yet advertises AUTH) gets neither the credentials nor the
// message; the message waits for a retry. STARTTLS is required for every
// host, loopback included (sender.go), so this holds a fortiori for a
// remote one.
func TestMailNeverSendsPasswordInClear(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServerMode(t, testutil.SMTPPlain)
		_, port, _ := net.SplitHostPort(srv.Addr)
		p, _ := strconv.Atoi(port)
		opts := Options{From: "gatehouse@example.test", Issuer: "http://localhost:8080",
			Server: &Server{Host: "127.0.0.1", Port: p, Username: "test", Password: "secret", InsecureSkipVerify: true}}
		s, err := New(db, opts)
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, s, "clear@example.test")
		if n, _ := s.DeliverDue(context.Background()); n != 1 {
			t.Fatalf("claimed %d, want 1", n)
		}
		if srv.Auths() != 0 || len(srv.Mails()) != 0 {
			t.Fatalf("without TLS the server got %d AUTH and %d mails", srv.Auths(), len(srv.Mails()))
		}
		var row outboxRow
		if err := db.Gorm.Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.SentAt != nil || row.NextAttemptAt == nil || !strings.Contains(strings.ToLower(row.LastError), "tls") {
			t.Errorf("row after a server without TLS = %+v", row)
		}
	})
}

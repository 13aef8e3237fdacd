package identity_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
)

// mailedLink finds the link in a message's text.
var mailedLink = regexp.MustCompile(`https://\S+\?token=\S+`)

// newRealMailService is identity over the real mail service: without an
// SMTP server when srv is nil (links are then only logged), else
// delivering to srv.
func newRealMailService(t *testing.T, db database.DB, srv *testutil.SMTPServer) (*identity.Service, *mail.Service) {
	t.Helper()
	opts := mail.Options{Issuer: "https://id.example.test"}
	if srv != nil {
		host, port, _ := net.SplitHostPort(srv.Addr)
		p, _ := strconv.Atoi(port)
		opts.Server = &mail.Server{Host: host, Port: p, InsecureSkipVerify: true}
		opts.From = "Gatehouse <gatehouse@example.test>"
		opts.SendTimeout = 5 * time.Second
	}
	m, err := mail.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	svc := identity.New(db, identity.Deps{Audit: audit.New(db), Mailer: m},
		identity.Options{Argon2: fastArgon, Issuer: "https://id.example.test"})
	return svc, m
}

// TestLinksReturnedWithoutSMTP: without a mail server, an invitation and
// an administrator's password reset return the link that was queued (and
// only logged), and it works; the public reset request returns nothing.
func TestLinksReturnedWithoutSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		svc, _ := newRealMailService(t, db, nil)
		inv, err := svc.InviteUser(ctx, identity.NewUser{Email: "ivy@example.test", Name: "Ivy"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(inv.Link, "https://id.example.test"+identity.PathPasswordLink+"?token=") {
			t.Fatalf("invitation link %q", inv.Link)
		}
		box := testutil.Outbox(t, db)
		if len(box) != 1 || !strings.Contains(box[0].Body, inv.Link) {
			t.Fatalf("the returned link is not the one queued: %+v", box)
		}
		// Only the hash is stored.
		var stored int64
		db.Gorm.Table("identity_email_tokens").Where("token_hash = ?", tokenOf(t, inv.Link)).Count(&stored)
		if stored != 0 {
			t.Fatal("the raw token is stored")
		}
		u, err := svc.SetPasswordWithLink(ctx, tokenOf(t, inv.Link), goodPassword)
		if err != nil || !u.HasPassword || u.ID != inv.ID {
			t.Fatalf("set password with the returned link: %+v, %v", u, err)
		}

		link, err := svc.SendPasswordReset(ctx, inv.ID)
		if err != nil || !strings.Contains(link, identity.PathPasswordLink+"?token=") {
			t.Fatalf("admin reset: %q, %v", link, err)
		}
		if _, err := svc.SetPasswordWithLink(ctx, tokenOf(t, link), goodPassword+" two"); err != nil {
			t.Fatalf("set password with the reset link: %v", err)
		}
		if _, err := svc.VerifyPassword(ctx, "ivy@example.test", goodPassword+" two"); err != nil {
			t.Fatalf("sign in with the new password: %v", err)
		}
		// The public request queues a link too (its signature has no way
		// to hand it out).
		before := len(testutil.Outbox(t, db))
		if err := svc.RequestPasswordReset(ctx, "ivy@example.test"); err != nil {
			t.Fatal(err)
		}
		if after := testutil.Outbox(t, db); len(after) != before+1 || mailedLink.FindString(after[before].Body) == "" {
			t.Fatalf("the public reset request queued %d messages, want 1 with a link", len(after)-before)
		}
	})
}

// TestLinksNotReturnedWithSMTP: with a mail server the link only goes out
// by mail.
func TestLinksNotReturnedWithSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		srv := testutil.NewSMTPServer(t)
		svc, m := newRealMailService(t, db, srv)
		inv, err := svc.InviteUser(ctx, identity.NewUser{Email: "ivy@example.test"})
		if err != nil || inv.Link != "" || inv.ID == "" {
			t.Fatalf("invite with SMTP: %+v, %v", inv, err)
		}
		if _, err := svc.SetPasswordWithLink(ctx, tokenOf(t, mailedLink.FindString(testutil.Outbox(t, db)[0].Body)), goodPassword); err != nil {
			t.Fatalf("the mailed link: %v", err)
		}
		link, err := svc.SendPasswordReset(ctx, inv.ID)
		if err != nil || link != "" {
			t.Fatalf("admin reset with SMTP: %q, %v", link, err)
		}
		if n, err := m.DeliverDue(ctx); err != nil || n != 2 {
			t.Fatalf("delivered %d, %v", n, err)
		}
		if got := srv.WaitFor(2, 5*time.Second); len(got) != 2 || got[0].To != "ivy@example.test" {
			t.Fatalf("mails: %+v", got)
		}
	})
}

// TestSendPasswordResetRefusals: only an active user with a password
// login gets one, at most three an hour, and nothing is stored otherwise.
func TestSendPasswordResetRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		svc, _ := newRealMailService(t, db, nil)
		if _, err := svc.SendPasswordReset(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		bot, err := svc.CreateUser(ctx, identity.NewUser{Email: "bot@example.test", Machine: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SendPasswordReset(ctx, bot.ID); !errors.Is(err, identity.ErrMachinePassword) {
			t.Errorf("service account: %v", err)
		}
		off, err := svc.CreateUser(ctx, identity.NewUser{Email: "off@example.test", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DisableUser(ctx, off.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SendPasswordReset(ctx, off.ID); !errors.Is(err, identity.ErrUserDisabled) {
			t.Errorf("disabled user: %v", err)
		}
		if n := len(testutil.Outbox(t, db)); n != 0 {
			t.Fatalf("a refused reset queued %d messages", n)
		}
		on, err := svc.CreateUser(ctx, identity.NewUser{Email: "on@example.test", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if link, err := svc.SendPasswordReset(ctx, on.ID); err != nil || link == "" {
				t.Fatalf("reset %d: %q, %v", i+1, link, err)
			}
		}
		if link, err := svc.SendPasswordReset(ctx, on.ID); !errors.Is(err, identity.ErrResetLimit) || link != "" {
			t.Fatalf("fourth reset within the hour: %q, %v", link, err)
		}
		if n := len(testutil.Outbox(t, db)); n != 3 {
			t.Fatalf("outbox holds %d messages, want 3", n)
		}
	})
}

package identity_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// fakeMailer keeps what was queued; like the outbox, a message queued in a
// transaction that rolls back is forgotten.
type fakeMailer struct {
	mu   sync.Mutex
	sent []sentMail
}

type sentMail struct{ Template, To, Link, Detail string }

func (f *fakeMailer) Notify(ctx context.Context, template, to string, vars map[string]string) error {
	if !database.InTx(ctx) {
		return errors.New("mail queued outside a transaction")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentMail{template, to, vars["link"], vars["detail"]})
	return nil
}

// Delivers: the fake stands for a mail server, so links are never returned.
func (f *fakeMailer) Delivers() bool { return true }

func (f *fakeMailer) take() []sentMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent
	f.sent = nil
	return s
}

// tokenOf is the token parameter of an emailed link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func newMailService(t *testing.T, db database.DB, clock *testutil.Clock) (*identity.Service, *fakeMailer) {
	m := &fakeMailer{}
	svc := identity.New(db, identity.Deps{Audit: audit.New(db), Mailer: m},
		identity.Options{Argon2: fastArgon, Issuer: "https://id.example.test", Now: clock.Now})
	return svc, m
}

func TestInviteLink(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Now())
		svc, m := newMailService(t, db, clock)
		u, err := svc.InviteUser(ctx, identity.NewUser{Email: "Ivy@example.test", Name: "Ivy"})
		if err != nil || u.HasPassword {
			t.Fatalf("invite: %+v, %v", u, err)
		}
		first := m.take()
		if len(first) != 1 || first[0].Template != "invite" || first[0].To != "Ivy@example.test" {
			t.Fatalf("mails: %+v", first)
		}
		// Inviting again finds the user and invalidates the first link.
		u2, err := svc.InviteUser(ctx, identity.NewUser{Email: "ivy@example.test"})
		if err != nil || u2.ID != u.ID {
			t.Fatalf("re-invite: %+v, %v", u2, err)
		}
		second := m.take()
		if _, err := svc.CheckEmailLink(ctx, tokenOf(t, first[0].Link), identity.LinkInvite); !errors.Is(err, identity.ErrEmailLink) {
			t.Errorf("first link after re-invite: %v", err)
		}
		tok := tokenOf(t, second[0].Link)
		if _, err := svc.SetPasswordWithLink(ctx, tok, "short"); err == nil {
			t.Fatal("weak password accepted")
		}
		got, err := svc.SetPasswordWithLink(ctx, tok, goodPassword)
		if err != nil || !got.EmailVerified || !got.HasPassword {
			t.Fatalf("set with link: %+v, %v", got, err)
		}
		if _, err := svc.SetPasswordWithLink(ctx, tok, goodPassword+"!"); !errors.Is(err, identity.ErrEmailLink) {
			t.Errorf("reused link: %v", err)
		}
		if _, err := svc.VerifyPassword(ctx, "ivy@example.test", goodPassword); err != nil {
			t.Errorf("sign in: %v", err)
		}
		if _, err := svc.InviteUser(ctx, identity.NewUser{Email: "ivy@example.test"}); !errors.Is(err, identity.ErrEmailTaken) {
			t.Errorf("invite a user with a password: %v", err)
		}
	})
}

func TestResetLink(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Now())
		svc, m := newMailService(t, db, clock)
		u, err := svc.CreateUser(ctx, identity.NewUser{Email: "rex@example.test", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.RequestPasswordReset(ctx, "nobody@example.test"); err != nil {
			t.Fatalf("unknown address: %v", err)
		}
		m.take() // rolled back: nothing would be sent
		if err := svc.RequestPasswordReset(ctx, "REX@example.test"); err != nil {
			t.Fatal(err)
		}
		mails := m.take()
		if len(mails) != 1 || mails[0].Template != "reset" {
			t.Fatalf("mails: %+v", mails)
		}
		tok := tokenOf(t, mails[0].Link)
		clock.Advance(31 * time.Minute)
		if _, err := svc.SetPasswordWithLink(ctx, tok, "another good passphrase"); !errors.Is(err, identity.ErrEmailLink) {
			t.Fatalf("expired link: %v", err)
		}
		_ = svc.RequestPasswordReset(ctx, "rex@example.test")
		tok = tokenOf(t, m.take()[0].Link)
		if _, err := svc.SetPasswordWithLink(ctx, tok, "another good passphrase"); err != nil {
			t.Fatal(err)
		}
		notice := m.take()
		if len(notice) != 1 || notice[0].Template != "notice" || notice[0].To != "rex@example.test" {
			t.Errorf("password-changed notice: %+v", notice)
		}
		if _, err := svc.VerifyPassword(ctx, "rex@example.test", goodPassword); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("old password still works: %v", err)
		}
		// At most three links per hour per account; the answer stays nil.
		for range 5 {
			if err := svc.RequestPasswordReset(ctx, "rex@example.test"); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(m.take()); n != 1 { // two were issued already in this hour
			t.Errorf("%d reset mails within an hour, want 1 more", n)
		}
		_ = u
	})
}

func TestEmailChangeLink(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Now())
		svc, m := newMailService(t, db, clock)
		u, err := svc.CreateUser(ctx, identity.NewUser{Email: "old@example.test", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.RequestEmailChange(ctx, u.ID, "new@example.test"); err != nil {
			t.Fatal(err)
		}
		mails := m.take()
		if len(mails) != 2 || mails[0].To != "new@example.test" || mails[1].To != "old@example.test" || mails[1].Template != "notice" {
			t.Fatalf("mails: %+v", mails)
		}
		if cur, _ := svc.UserByID(ctx, u.ID); cur.Email != "old@example.test" {
			t.Fatalf("changed before the link was used: %s", cur.Email)
		}
		got, err := svc.VerifyEmailWithLink(ctx, tokenOf(t, mails[0].Link))
		if err != nil || got.Email != "new@example.test" || !got.EmailVerified {
			t.Fatalf("verify: %+v, %v", got, err)
		}
		// A plain verification link of the current address.
		if err := svc.RequestEmailVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		tok := tokenOf(t, m.take()[0].Link)
		// An admin's change meanwhile ends the link.
		addr := "admin-set@example.test"
		if _, err := svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Email: &addr}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VerifyEmailWithLink(ctx, tok); !errors.Is(err, identity.ErrEmailLink) {
			t.Errorf("link after an admin's change: %v", err)
		}
	})
}

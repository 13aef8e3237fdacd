package passkeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestPasskeyNotices: adding and removing a passkey each queue exactly one
// security notice to the owner, in the change's transaction: a change that
// rolls back (or fails) queues nothing.
func TestPasskeyNotices(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		ada := e.user(t, "ada@example.com")
		e.user(t, "bob@example.com")

		_, pk := e.register(t, ada)
		mails := testutil.Outbox(t, db)
		if len(mails) != 1 || mails[0].To != "ada@example.com" || !strings.HasPrefix(mails[0].Subject, "Security notice") ||
			!strings.Contains(mails[0].Body, `A passkey named "`+pk.Name+`" was added to your account.`) {
			t.Fatalf("after registration: %+v", mails)
		}

		// A registration whose transaction rolls back queues nothing.
		errRollback := errors.New("roll back")
		d := newDevice(ada.ID)
		c, err := e.svc.BeginRegistration(e.ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = database.Transact(e.ctx, db.Gorm, func(ctx context.Context) error {
			if _, err := e.svc.FinishRegistration(ctx, ada.ID, c.Handle, "Laptop", d.attest(t, rp, c)); err != nil {
				t.Fatalf("finish registration: %v", err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) || len(testutil.Outbox(t, db)) != 1 || e.count(t, "passkeys_credentials") != 1 {
			t.Fatalf("rolled-back registration: %v, outbox %+v", err, testutil.Outbox(t, db))
		}
		// A refused one neither.
		c, _ = e.svc.BeginRegistration(e.ctx, ada.ID)
		if _, err := e.svc.FinishRegistration(e.ctx, ada.ID, c.Handle, "", []byte(`{}`)); err == nil {
			t.Fatal("garbage attestation accepted")
		}
		if n := len(testutil.Outbox(t, db)); n != 1 {
			t.Fatalf("a refused registration queued mail: %d", n)
		}

		// Removal: rolled back, nothing; committed, one notice.
		err = database.Transact(e.ctx, db.Gorm, func(ctx context.Context) error {
			if err := e.svc.Remove(ctx, ada.ID, pk.ID); err != nil {
				t.Fatalf("remove: %v", err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) || len(testutil.Outbox(t, db)) != 1 {
			t.Fatalf("rolled-back removal: %v, outbox %+v", err, testutil.Outbox(t, db))
		}
		if err := e.svc.Remove(e.ctx, ada.ID, pk.ID); err != nil {
			t.Fatal(err)
		}
		mails = testutil.Outbox(t, db)
		if len(mails) != 2 || mails[1].To != "ada@example.com" ||
			!strings.Contains(mails[1].Body, `The passkey "`+pk.Name+`" was removed from your account.`) {
			t.Fatalf("after removal: %+v", mails)
		}
		for _, m := range mails {
			if m.To == "bob@example.com" {
				t.Errorf("bob got %+v", m)
			}
		}
	})
}

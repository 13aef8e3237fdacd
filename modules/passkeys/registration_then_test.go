package passkeys_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// TestFinishRegistrationThen: then runs in the passkey's transaction.
// When it fails, the passkey, its audit event and its notice are not kept,
// the refusal is audited and the ceremony is spent; when it succeeds, its
// writes commit with the passkey.
func TestFinishRegistrationThen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		u := e.user(t, uniqueEmail())
		d := newDevice(u.ID)
		c, err := e.svc.BeginRegistration(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		used := errors.New("the invitation was used meanwhile")
		ran := false
		_, err = e.svc.FinishRegistrationThen(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c), func(ctx context.Context) error {
			ran = database.InTx(ctx)
			return used
		})
		if !errors.Is(err, used) || !ran {
			t.Fatalf("finish with a failing then: %v (then ran in a transaction: %v)", err, ran)
		}
		if e.count(t, "passkeys_credentials") != 0 || len(testutil.Outbox(t, db)) != 0 {
			t.Fatal("a failed then kept the passkey or its notice")
		}
		if ev := e.events(t, "passkey.register"); len(ev) != 1 || ev[0].Outcome != audit.Failure {
			t.Fatalf("audit after the failed then: %+v, want one failure", ev)
		}
		if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c)); !errors.Is(err, passkeys.ErrChallengeUnknown) {
			t.Fatalf("the ceremony after the failed then: %v, want it spent", err)
		}

		c, err = e.svc.BeginRegistration(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := e.svc.FinishRegistrationThen(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c), func(ctx context.Context) error {
			return e.audit.Record(ctx, audit.Event{Action: "test.then", Target: audit.Ref{Type: "user", ID: u.ID}, Outcome: audit.Success})
		})
		if err != nil || e.count(t, "passkeys_credentials") != 1 || len(e.events(t, "test.then")) != 1 || pk.ID == "" {
			t.Fatalf("finish with a good then: %+v, %v", pk, err)
		}
	})
}

package apikeys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

// TestAPIKeyNotice: creating a key for a person queues exactly one notice
// to them, naming the key and its prefix but never its secret; nothing
// when the creation rolls back or is refused, and nothing for a service
// account.
func TestAPIKeyNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		alice := e.user(t, "alice@example.com", false)
		e.user(t, "bob@example.com", false)
		robot := e.user(t, "robot@example.com", true)

		c := mustCreate(t, e, apikeys.NewKey{UserID: alice.ID, Name: "CI deploy"})
		mails := testutil.Outbox(t, db)
		prefix := apikeys.Prefix + c.Key.PublicID
		if len(mails) != 1 || mails[0].To != "alice@example.com" || !strings.HasPrefix(mails[0].Subject, "Security notice") ||
			!strings.Contains(mails[0].Body, `A new API key named "CI deploy", starting `+prefix+`, was created for your account.`) {
			t.Fatalf("after creation: %+v", mails)
		}
		secret := strings.TrimPrefix(c.Secret, prefix+"_")
		if secret == c.Secret || strings.Contains(mails[0].Body, secret[:20]) {
			t.Fatalf("the notice carries the secret:\n%s", mails[0].Body)
		}

		errRollback := errors.New("roll back")
		err := database.Transact(e.ctx, db.Gorm, func(ctx context.Context) error {
			if _, err := e.svc.Create(ctx, apikeys.NewKey{UserID: alice.ID, Name: "rolled back"}); err != nil {
				t.Fatalf("create: %v", err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) || len(testutil.Outbox(t, db)) != 1 || e.count(t, "apikeys_keys", "name = ?", "rolled back") != 0 {
			t.Fatalf("rolled-back creation: %v, outbox %+v", err, testutil.Outbox(t, db))
		}
		if _, err := e.svc.Create(e.ctx, apikeys.NewKey{UserID: alice.ID, Name: ""}); err == nil {
			t.Fatal("a key without a name was created")
		}
		mustCreate(t, e, apikeys.NewKey{UserID: robot.ID, Name: "robot key"})
		if mails := testutil.Outbox(t, db); len(mails) != 1 {
			t.Fatalf("refused or service-account creations queued mail: %+v", mails)
		}
	})
}

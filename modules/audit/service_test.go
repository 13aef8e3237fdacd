package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

func TestRecordJoinsTransaction(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		ctx := principal.With(context.Background(), principal.Principal{Kind: principal.User, ID: "u1"})
		ctx = principal.WithRequest(ctx, principal.Request{IP: "192.0.2.1", UserAgent: "test"})

		boom := errors.New("boom")
		err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error {
			if err := svc.Record(ctx, audit.Event{Action: "user.create"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		var n int64
		db.Gorm.Table("audit_events").Count(&n)
		if n != 0 {
			t.Fatalf("rolled-back event persisted: %d rows", n)
		}

		if err := svc.Record(ctx, audit.Event{Action: "user.create", Target: audit.Ref{Type: "user", ID: "u2"}}); err != nil {
			t.Fatal(err)
		}
		var row struct{ ActorID, IP, Outcome string }
		db.Gorm.Table("audit_events").Select("actor_id, ip, outcome").Take(&row)
		if row.ActorID != "u1" || row.IP != "192.0.2.1" || row.Outcome != audit.Success {
			t.Fatalf("row = %+v", row)
		}
	})
}

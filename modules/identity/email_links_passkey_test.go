package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// TestAcceptInviteWithPasskey: an invitation used for a passkey verifies
// the email without setting a password and works once; when the caller's
// transaction rolls back (the passkey was refused) the link stays usable;
// a reset link is not an invitation.
func TestAcceptInviteWithPasskey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		svc, m := newMailService(t, db, testutil.NewClock(time.Now()))
		u, err := svc.InviteUser(ctx, identity.NewUser{Email: "kim@example.test", Name: "Kim"})
		if err != nil {
			t.Fatal(err)
		}
		token := tokenOf(t, m.take()[0].Link)

		refused := errors.New("the passkey was refused")
		if err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error {
			if _, err := svc.AcceptInviteWithPasskey(ctx, token); err != nil {
				return err
			}
			return refused
		}); !errors.Is(err, refused) {
			t.Fatalf("rolled-back accept: %v", err)
		}
		if got, _ := svc.UserByID(ctx, u.ID); got.EmailVerified {
			t.Fatal("a rolled-back accept verified the email")
		}
		if _, err := svc.CheckEmailLink(ctx, token, identity.LinkInvite); err != nil {
			t.Fatalf("the link after a rolled-back accept: %v", err)
		}

		got, err := svc.AcceptInviteWithPasskey(ctx, token)
		if err != nil || !got.EmailVerified || got.HasPassword {
			t.Fatalf("accept: %+v, %v; want verified, without a password", got, err)
		}
		if _, err := svc.AcceptInviteWithPasskey(ctx, token); !errors.Is(err, identity.ErrEmailLink) {
			t.Fatalf("second accept: %v, want ErrEmailLink", err)
		}

		// A reset link (for a user who has a password) is refused.
		if _, err := svc.InviteUser(ctx, identity.NewUser{Email: "lou@example.test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetPasswordWithLink(ctx, tokenOf(t, m.take()[0].Link), "lou's first passphrase"); err != nil {
			t.Fatal(err)
		}
		if err := svc.RequestPasswordReset(ctx, "lou@example.test"); err != nil {
			t.Fatal(err)
		}
		var reset string
		for _, s := range m.take() {
			if s.Template == "reset" {
				reset = tokenOf(t, s.Link)
			}
		}
		if _, err := svc.AcceptInviteWithPasskey(ctx, reset); !errors.Is(err, identity.ErrEmailLink) {
			t.Fatalf("accept with a reset link: %v, want ErrEmailLink", err)
		}
		if _, err := svc.CheckEmailLink(ctx, reset, identity.LinkReset); err != nil {
			t.Fatalf("the reset link after a refused accept: %v", err)
		}
	})
}

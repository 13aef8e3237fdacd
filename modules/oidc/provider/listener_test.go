package provider

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func TestDisabledUserLosesTokens(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		users := oidctest.NewUsers()
		mk := oidctest.MasterKey(t)
		p := newTestProvider(t, db, "https://id.example.test", users, mk, func(o *Options) { o.Now = clock.Now })
		replica := newTestProvider(t, db, "https://id.example.test", users, mk, func(o *Options) { o.Now = clock.Now })
		ctx := context.Background()
		users.Add(identity.User{ID: "u1", Email: "u1@example.test"}, "")
		c, _ := mustCreateClient(t, p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
		mint := func() string {
			tok, _, err := p.mintAccessToken(p.issuer, accessToken{Subject: "u1", ClientID: c.ID, GrantID: "g-" + secret.Token(4), Expires: clock.Now().Add(10 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		before := mint()
		rt, err := p.newRefreshToken(ctx, refreshTokenRow{FamilyID: "fam-u1", ClientID: c.ID, UserID: "u1", AuthTime: clock.Now()}, &c)
		if err != nil {
			t.Fatal(err)
		}

		if err := p.UserChanged(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.verifyAccessToken(ctx, before); err != nil {
			t.Fatalf("an active user's token was revoked by an unrelated change: %v", err)
		}

		users.Add(identity.User{ID: "u1", Email: "u1@example.test", Status: identity.StatusDisabled}, "")
		err = database.Transact(ctx, db.Gorm, func(ctx context.Context) error { return p.UserChanged(ctx, "u1") })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.verifyAccessToken(ctx, before); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("disabled user's access token still valid: %v", err)
		}
		if _, err := p.refreshByToken(ctx, rt, c.ID); !isGrantError(err) {
			t.Errorf("disabled user's refresh token still valid: %v", err)
		}
		if _, err := replica.verifyAccessToken(ctx, before); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("replica accepts a disabled user's token: %v", err)
		}

		// Re-enabled later: new tokens work again.
		clock.Advance(2 * time.Second)
		if _, err := p.verifyAccessToken(ctx, mint()); err != nil {
			t.Errorf("token issued after the revocation rejected: %v", err)
		}
		if err := p.UserDeleted(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.verifyAccessToken(ctx, mint()); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token of a just-deleted user (same second) accepted: %v", err)
		}
	})
}

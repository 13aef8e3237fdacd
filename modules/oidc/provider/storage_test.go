package provider

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func TestClientStore(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		p := newTestProvider(t, db, "https://id.example.test", newProviderFakeUsers(), testMasterKey(t), func(o *Options) { o.Now = clock.Now })
		ctx := systemCtx()

		c, secret := mustCreateClient(t, p, NewClient{Name: " App ", RedirectURIs: []string{"https://app.test/cb"}, Scopes: []string{"roles", "openid"}})
		if c.Name != "App" || !slices.Equal(c.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}) || c.IDTokenAlg != AlgRS256 {
			t.Errorf("defaults not applied: %+v", c)
		}
		if len(secret) < 43 { // 32 bytes base64url
			t.Errorf("secret too short: %d", len(secret))
		}
		got, err := p.Client(ctx, c.ID)
		if err != nil || got.Name != "App" || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("Client = %+v, %v", got, err)
		}
		var stored []clientSecretRow
		db.Gorm.Where("client_id = ?", c.ID).Find(&stored)
		if len(stored) != 1 || stored[0].SecretHash != hashOf(secret) || stored[0].SecretHash == secret {
			t.Errorf("secret not stored as SHA-256: %+v", stored)
		}
		if _, err := p.authenticateClient(ctx, c.ID, secret); err != nil {
			t.Errorf("authenticate: %v", err)
		}

		t.Run("secret rotation keeps the old one for the overlap", func(t *testing.T) {
			s2, err := p.RotateClientSecret(ctx, c.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{secret, s2} {
				if _, err := p.authenticateClient(ctx, c.ID, s); err != nil {
					t.Errorf("secret rejected during overlap: %v", err)
				}
			}
			clock.Advance(time.Hour + time.Second)
			p.clients.invalidate(c.ID)
			if _, err := p.authenticateClient(ctx, c.ID, secret); err == nil {
				t.Errorf("old secret accepted after overlap")
			}
			if _, err := p.authenticateClient(ctx, c.ID, s2); err != nil {
				t.Errorf("new secret rejected: %v", err)
			}
		})

		t.Run("update", func(t *testing.T) {
			name := "Renamed"
			alg := AlgES256
			uris := []string{"https://app.test/cb2"}
			up, err := p.UpdateClient(ctx, c.ID, ClientUpdate{Name: &name, IDTokenAlg: &alg, RedirectURIs: &uris})
			if err != nil {
				t.Fatal(err)
			}
			if up.Name != name || up.IDTokenAlg != AlgES256 || !slices.Equal(up.RedirectURIs, uris) || !up.UpdatedAt.After(c.UpdatedAt) {
				t.Errorf("update = %+v", up)
			}
			empty := []string{}
			if _, err := p.UpdateClient(ctx, c.ID, ClientUpdate{RedirectURIs: &empty}); !errors.Is(err, ErrInvalidClient) {
				t.Errorf("removing every redirect URI of a code client: %v", err)
			}
			if _, err := p.UpdateClient(ctx, "nope", ClientUpdate{Name: &name}); !errors.Is(err, ErrNotFound) {
				t.Errorf("update unknown: %v", err)
			}
		})

		t.Run("list pages by cursor", func(t *testing.T) {
			for i := 0; i < 4; i++ {
				mustCreateClient(t, p, NewClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}})
			}
			var ids []string
			tok := ""
			for pages := 0; ; pages++ {
				page, err := p.ListClients(ctx, 2, tok)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					ids = append(ids, it.ID)
				}
				if page.NextPageToken == "" {
					break
				}
				tok = page.NextPageToken
				if pages > 5 {
					t.Fatal("pagination does not end")
				}
			}
			if len(ids) != 5 || !slices.IsSorted(ids) {
				t.Errorf("listed %v", ids)
			}
			if _, err := p.ListClients(ctx, 2, "!!"); !errors.Is(err, ErrInvalidClient) {
				t.Errorf("bad page token: %v", err)
			}
		})

		t.Run("delete", func(t *testing.T) {
			if err := p.DeleteClient(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Client(ctx, c.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleted client still there: %v", err)
			}
			if _, err := p.authenticateClient(ctx, c.ID, secret); err == nil {
				t.Errorf("deleted client authenticates")
			}
			if err := p.DeleteClient(ctx, c.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("second delete: %v", err)
			}
			var n int64
			db.Gorm.Table("audit_events").Where("action IN ?", []string{"client.create", "client.update", "client.delete", "client.secret.rotate"}).Count(&n)
			if n < 4 {
				t.Errorf("audit events = %d", n)
			}
		})
	})
}

func TestSigningKeys(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		mk := testMasterKey(t)
		p := newTestProvider(t, db, "https://id.example.test", newProviderFakeUsers(), mk, func(o *Options) { o.Now = clock.Now })
		ctx := context.Background()
		first := map[jose.SignatureAlgorithm]string{}
		for _, alg := range keyAlgs {
			k, err := p.keys.activeKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			first[alg] = k.id
		}
		var rows []signingKeyRow
		db.Gorm.Find(&rows)
		if len(rows) != 2 {
			t.Fatalf("keys on first start: %d", len(rows))
		}
		for _, r := range rows {
			if len(r.PrivateKey) < 100 || r.PrivateKey[:4] == "MIIE" || r.PrivateKey[:4] == "MIGH" {
				t.Errorf("key %s not sealed", r.ID)
			}
		}

		t.Run("a second replica uses the same keys", func(t *testing.T) {
			replica := newTestProvider(t, db, "https://id.example.test", newProviderFakeUsers(), mk)
			for alg, id := range first {
				k, _ := replica.keys.activeKey(alg)
				if k == nil || k.id != id {
					t.Errorf("replica %s key %v, want %s", alg, k, id)
				}
			}
		})
		t.Run("another master key cannot read them", func(t *testing.T) {
			other, err := NewProvider(db, newProviderFakeUsers(), audit.NewService(db.Gorm), fakeAuthorizer{}, Options{Issuer: "https://x.test", MasterKey: testMasterKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Init(ctx); err == nil {
				t.Errorf("keys decrypted with a wrong master key")
			}
		})

		kc, _ := mustCreateClient(t, p, NewClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}})
		token, _, err := p.mintAccessToken(p.issuer, accessToken{Subject: kc.ID, ClientID: kc.ID, Expires: clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.RotateSigningKeys(systemCtx()); err != nil {
			t.Fatal(err)
		}
		for alg, id := range first {
			k, _ := p.keys.activeKey(alg)
			if k.id == id {
				t.Errorf("%s not rotated", alg)
			}
		}
		pub := p.keys.published()
		if len(pub) != 4 {
			t.Errorf("published after rotation: %d, want 4 (retired keys stay)", len(pub))
		}
		if _, err := p.verifyAccessToken(ctx, token); err != nil {
			t.Errorf("token signed by a retired key no longer verifies: %v", err)
		}
		if rotated, err := p.keys.rotate(ctx, false); err != nil || rotated {
			t.Errorf("scheduled rotation of fresh keys: %v %v", rotated, err)
		}
		clock.Advance(p.opts.KeyRetention + time.Minute)
		if _, err := p.keys.rotate(ctx, false); err != nil {
			t.Fatal(err)
		}
		if n := len(p.keys.published()); n != 2 {
			t.Errorf("published after retention: %d, want 2", n)
		}
		clock.Advance(p.opts.KeyRotationPeriod)
		if rotated, err := p.keys.rotate(ctx, false); err != nil || !rotated {
			t.Errorf("scheduled rotation of old keys: %v %v", rotated, err)
		}
	})
}

func TestRevocationCache(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		mk := testMasterKey(t)
		users := newProviderFakeUsers()
		a := newTestProvider(t, db, "https://id.example.test", users, mk)
		b := newTestProvider(t, db, "https://id.example.test", users, mk)
		ctx := context.Background()
		c, _ := mustCreateClient(t, a, NewClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}})
		tok, jti, err := a.mintAccessToken(a.issuer, accessToken{Subject: c.ID, ClientID: c.ID, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.verifyAccessToken(ctx, tok); err != nil {
			t.Fatalf("replica b rejects a's token: %v", err)
		}
		if _, err := b.verifyAccessTokenNow(ctx, tok); err != nil {
			t.Fatalf("replica b's current check rejects a's token: %v", err)
		}
		if err := a.revokeAccessToken(systemCtx(), jti, "c", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := a.revokeAccessToken(systemCtx(), jti, "c", time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := a.verifyAccessToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("a accepts its revoked token")
		}
		// Checks that must be current (introspection, API) see it at once,
		// sharing polls when concurrent.
		errs := make(chan error, 40)
		for i := 0; i < cap(errs); i++ {
			go func() { _, err := b.verifyAccessTokenNow(ctx, tok); errs <- err }()
		}
		for i := 0; i < cap(errs); i++ {
			if err := <-errs; !errors.Is(err, ErrInvalidToken) {
				t.Errorf("b's current check accepts a token a revoked: %v", err)
			}
		}
		if err := b.revoked.poll(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.verifyAccessToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("b accepts a token a revoked")
		}
	})
}

func TestCodeRedemption(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		p := newTestProvider(t, db, "https://id.example.test", newProviderFakeUsers(), testMasterKey(t), func(o *Options) { o.Now = clock.Now })
		ctx := context.Background()
		c, _ := mustCreateClient(t, p, NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
		newCode := func() string {
			ar, err := p.storage.CreateAuthRequest(ctx, &zoidc.AuthRequest{ClientID: c.ID, RedirectURI: "https://app.test/cb",
				Scopes: []string{"openid"}, ResponseType: zoidc.ResponseTypeCode, State: "s"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.CompleteRequest(ctx, ar.GetID(), flow.Authentication{UserID: "u", AuthTime: clock.Now(), AMR: []string{"pwd"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.CompleteRequest(ctx, ar.GetID(), flow.Authentication{UserID: "u", AuthTime: clock.Now(), AMR: []string{"pwd"}}); !errors.Is(err, flow.ErrUnknownAuthRequest) {
				t.Errorf("completing twice: %v", err)
			}
			code := secret.Token(32)
			if err := p.storage.SaveAuthCode(ctx, ar.GetID(), code); err != nil {
				t.Fatal(err)
			}
			return code
		}
		code := newCode()
		ar, err := p.storage.AuthRequestByCode(ctx, code)
		if err != nil || ar.GetSubject() != "u" || ar.GetACR() != flow.ACRPassword || !ar.Done() {
			t.Fatalf("redeem: %+v %v", ar, err)
		}
		if _, err := p.storage.AuthRequestByCode(ctx, code); !isGrantError(err) {
			t.Errorf("second redemption: %v", err)
		}
		if !p.revoked.isRevoked(ar.(*authRequest).grantID) {
			t.Errorf("grant of the replayed code not revoked")
		}
		var n int64
		db.Gorm.Table("audit_events").Where("action = ?", "code.reuse_detected").Count(&n)
		if n != 1 {
			t.Errorf("code.reuse_detected events: %d", n)
		}
		expired := newCode()
		clock.Advance(61 * time.Second)
		if _, err := p.storage.AuthRequestByCode(ctx, expired); !isGrantError(err) {
			t.Errorf("expired code: %v", err)
		}
		if _, err := p.storage.AuthRequestByCode(ctx, "unknown"); !isGrantError(err) {
			t.Errorf("unknown code: %v", err)
		}
	})
}

func TestRefreshRotationStore(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		p := newTestProvider(t, db, "https://id.example.test", newProviderFakeUsers(), testMasterKey(t), func(o *Options) { o.Now = clock.Now })
		ctx := context.Background()
		c, _ := mustCreateClient(t, p, NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}, RefreshTokenIdleTTL: time.Hour, RefreshTokenTTL: 3 * time.Hour})
		r1, err := p.newRefreshToken(ctx, refreshTokenRow{FamilyID: "fam-1", ClientID: c.ID, UserID: "u", Scopes: []string{"openid", "offline_access"}, AuthTime: clock.Now()}, &c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.refreshByToken(ctx, r1, "other-client"); !isGrantError(err) {
			t.Errorf("other client: %v", err)
		}
		rr, err := p.refreshByToken(ctx, r1, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := p.rotateRefreshToken(ctx, rr, &c)
		if err != nil || r2 == r1 {
			t.Fatalf("rotate: %q %v", r2, err)
		}
		// The loser of a race (same row redeemed twice) is a replay.
		if _, err := p.rotateRefreshToken(ctx, rr, &c); !isGrantError(err) {
			t.Errorf("concurrent second rotation: %v", err)
		}
		if _, err := p.refreshByToken(ctx, r2, c.ID); !isGrantError(err) {
			t.Errorf("family not revoked after replay: %v", err)
		}

		// Idle and absolute lifetimes.
		r3, _ := p.newRefreshToken(ctx, refreshTokenRow{FamilyID: "fam-2", ClientID: c.ID, UserID: "u", AuthTime: clock.Now()}, &c)
		for i := 0; i < 3; i++ {
			clock.Advance(50 * time.Minute)
			rr, err := p.refreshByToken(ctx, r3, c.ID) // used within the idle hour
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			if r3, err = p.rotateRefreshToken(ctx, rr, &c); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(40 * time.Minute) // 190 min since the family began
		if _, err := p.refreshByToken(ctx, r3, c.ID); !isGrantError(err) {
			t.Errorf("absolute lifetime not enforced: %v", err)
		}
		r4, _ := p.newRefreshToken(ctx, refreshTokenRow{FamilyID: "fam-3", ClientID: c.ID, UserID: "u", AuthTime: clock.Now()}, &c)
		clock.Advance(61 * time.Minute)
		if _, err := p.refreshByToken(ctx, r4, c.ID); !isGrantError(err) {
			t.Errorf("idle lifetime not enforced: %v", err)
		}
	})
}

func isGrantError(err error) bool {
	var oe *zoidc.Error
	return errors.As(err, &oe) && oe.ErrorType == zoidc.InvalidGrant
}

// hashOf is the stored form of a secret (the variable secret shadows the package).
func hashOf(s string) string { return secret.Hash(s) }

package provider

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func TestSigningKeys(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		mk := oidctest.MasterKey(t)
		p := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk, func(o *Options) { o.Now = clock.Now })
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
		if len(rows) != 3 {
			t.Fatalf("keys on first start: %d", len(rows))
		}
		for _, r := range rows {
			if len(r.PrivateKey) < 100 || r.PrivateKey[:4] == "MIIE" || r.PrivateKey[:4] == "MIGH" || r.PrivateKey[:4] == "MC4C" {
				t.Errorf("key %s not sealed", r.ID)
			}
		}

		t.Run("a second replica uses the same keys", func(t *testing.T) {
			replica := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk)
			for alg, id := range first {
				k, _ := replica.keys.activeKey(alg)
				if k == nil || k.id != id {
					t.Errorf("replica %s key %v, want %s", alg, k, id)
				}
			}
		})
		t.Run("another master key cannot read them", func(t *testing.T) {
			other, err := NewProvider(db, oidctest.NewUsers(), registry(p), audit.New(db), fakeAuthorizer{}, Options{Issuer: "https://x.test", MasterKey: oidctest.MasterKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Init(ctx); err == nil {
				t.Errorf("keys decrypted with a wrong master key")
			}
		})

		kc, _ := mustCreateClient(t, p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}})
		token, _, err := p.mintAccessToken(p.issuer, accessToken{Subject: kc.ID, ClientID: kc.ID, Expires: clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.RotateSigningKeys(oidctest.SystemCtx()); err != nil {
			t.Fatal(err)
		}
		for alg, id := range first {
			k, _ := p.keys.activeKey(alg)
			if k.id == id {
				t.Errorf("%s not rotated", alg)
			}
		}
		pub := p.keys.published()
		if len(pub) != 6 {
			t.Errorf("published after rotation: %d, want 6 (retired keys stay)", len(pub))
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
		if n := len(p.keys.published()); n != 3 {
			t.Errorf("published after retention: %d, want 3", n)
		}
		clock.Advance(p.opts.KeyRotationPeriod)
		if rotated, err := p.keys.rotate(ctx, false); err != nil || !rotated {
			t.Errorf("scheduled rotation of old keys: %v %v", rotated, err)
		}
	})
}

func TestRevocationAcrossReplicas(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		mk := oidctest.MasterKey(t)
		users := oidctest.NewUsers()
		a := newTestProvider(t, db, "https://id.example.test", users, mk)
		b := newTestProvider(t, db, "https://id.example.test", users, mk)
		ctx := context.Background()
		c, _ := mustCreateClient(t, a, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}})
		tok, jti, err := a.mintAccessToken(a.issuer, accessToken{Subject: c.ID, ClientID: c.ID, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.verifyAccessToken(ctx, tok); err != nil {
			t.Fatalf("replica b rejects a's token: %v", err)
		}
		if err := a.revokeAccessToken(oidctest.SystemCtx(), jti, "c", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := a.revokeAccessToken(oidctest.SystemCtx(), jti, "c", time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := a.verifyAccessToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("a accepts its revoked token")
		}
		// The other replica sees it at once on SQLite (the next check reads
		// data_version), once a's notification arrives on PostgreSQL; then
		// every check, concurrent ones included, refuses it.
		seenAfterCommit(t, db, func() error { _, err := b.verifyAccessToken(ctx, tok); return err })
		errs := make(chan error, 40)
		for i := 0; i < cap(errs); i++ {
			go func() { _, err := b.verifyAccessToken(ctx, tok); errs <- err }()
		}
		for i := 0; i < cap(errs); i++ {
			if err := <-errs; !errors.Is(err, ErrInvalidToken) {
				t.Errorf("b accepts a token a revoked: %v", err)
			}
		}
	})
}

func TestCodeRedemption(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Now())
		p := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), oidctest.MasterKey(t), func(o *Options) { o.Now = clock.Now })
		ctx := flow.WithBrowser(context.Background(), secret.Token(32))
		c, _ := mustCreateClient(t, p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
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
			if _, err := p.CompleteRequest(context.Background(), ar.GetID(), flow.Authentication{UserID: "u", AuthTime: clock.Now(), AMR: []string{"pwd"}}); !errors.Is(err, flow.ErrOtherBrowser) {
				t.Errorf("completing from another browser: %v", err)
			}
			code := secret.Token(32)
			if err := p.storage.SaveAuthCode(ctx, ar.GetID(), code); err != nil {
				t.Fatal(err)
			}
			// A request yields one code: a replayed callback gets none.
			if err := p.storage.SaveAuthCode(ctx, ar.GetID(), secret.Token(32)); err == nil {
				t.Errorf("a second code was issued for one request")
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
		if revoked, err := p.revoked.revoked(ctx, "jti", ar.(*authRequest).grantID, "u", clock.Now()); err != nil || !revoked {
			t.Errorf("grant of the replayed code not revoked: %v", err)
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
		p := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), oidctest.MasterKey(t), func(o *Options) { o.Now = clock.Now })
		ctx := context.Background()
		c, _ := mustCreateClient(t, p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}, RefreshTokenIdleTTL: time.Hour, RefreshTokenTTL: 3 * time.Hour})
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

// On first start the RSA key is generated in the background (Init returns
// once the ES256 key exists); the JWKS and every RS256 signer wait for it, so
// nothing signed with RS256 goes out before its key is published. A restart
// finds both keys and generates nothing.
func TestRSAKeyGeneratedInBackground(t *testing.T) {
	db := testutil.NewSQLite(t)
	mk := oidctest.MasterKey(t)
	p := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk)
	if p.keys.pending.Load() == nil {
		t.Fatal("first start generated the RSA key on the start path")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(p.keys.jwks().body, &set); err != nil {
		t.Fatal(err)
	}
	algs := map[string]bool{}
	for _, k := range set.Keys {
		algs[k.Algorithm] = true
	}
	if len(set.Keys) != 3 || !algs["RS256"] || !algs["ES256"] || !algs["EdDSA"] {
		t.Fatalf("JWKS after start: %v", algs)
	}
	k, err := p.keys.activeKey(jose.RS256)
	if err != nil || k.alg != jose.RS256 {
		t.Fatalf("RS256 key: %v %v", k, err)
	}
	restarted := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk)
	if restarted.keys.pending.Load() != nil {
		t.Error("a restart generated a key")
	}
	if k2, _ := restarted.keys.activeKey(jose.RS256); k2 == nil || k2.id != k.id {
		t.Errorf("restart RS256 key %v, want %s", k2, k.id)
	}
}

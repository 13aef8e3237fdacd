package signin

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func newTestSessionDB(db database.DB, clock *testutil.Clock) *sessionDB {
	return &sessionDB{db: db.Gorm, now: clock.Now, timeouts: defaultSessionTimeouts}
}

func TestSessionStoreLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := newTestSessionDB(db, clock)

		sess, token, err := s.create(ctx, newSessionInput{UserID: "u1", AMR: []string{flow.AMRPassword}, IP: "192.0.2.1", UserAgent: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 43 {
			t.Fatalf("token too short: %q", token)
		}
		// Only the hash is stored.
		var stored int64
		db.Gorm.Table("oidc_sessions").Where("token_hash = ?", token).Count(&stored)
		if stored != 0 {
			t.Fatal("the cookie value is stored in clear")
		}
		if sess.ACR != flow.ACRPassword || !slices.Equal(sess.AMR, []string{"pwd"}) || !sess.AuthTime.Equal(clock.Now()) {
			t.Fatalf("new session = %+v", sess)
		}
		if !sess.ExpiresAt.Equal(clock.Now().Add(7 * 24 * time.Hour)) {
			t.Fatalf("expires %v", sess.ExpiresAt)
		}

		got, err := s.byToken(ctx, token)
		if err != nil || got.ID != sess.ID || got.UserID != "u1" || got.IP != "192.0.2.1" {
			t.Fatalf("byToken = %+v, %v", got, err)
		}
		if _, err := s.byToken(ctx, token+"x"); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		if _, err := s.byToken(ctx, ""); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("empty token: %v", err)
		}

		// last_seen_at is written at most once a minute.
		clock.Advance(30 * time.Second)
		got, _ = s.byToken(ctx, token)
		if !got.LastSeenAt.Equal(sess.CreatedAt) {
			t.Fatalf("last_seen moved after 30s: %v", got.LastSeenAt)
		}
		clock.Advance(31 * time.Second)
		got, _ = s.byToken(ctx, token)
		if !got.LastSeenAt.Equal(clock.Now()) {
			t.Fatalf("last_seen not moved after 61s: %v", got.LastSeenAt)
		}
		got, _ = s.byID(ctx, sess.ID)
		if !got.LastSeenAt.Equal(clock.Now()) {
			t.Fatalf("last_seen not stored: %v", got.LastSeenAt)
		}

		// A passkey step-up accumulates methods and makes acr phr.
		clock.Advance(time.Hour)
		if _, err := s.addMethods(ctx, sess.ID, []string{flow.AMRHardware, flow.AMRUser}, ""); err != nil {
			t.Fatal(err)
		}
		got, _ = s.byToken(ctx, token)
		if !slices.Equal(got.AMR, []string{"hwk", "pwd", "user"}) || got.ACR != flow.ACRPhishingResistant || !got.AuthTime.Equal(clock.Now()) {
			t.Fatalf("after step-up: %+v", got)
		}
		// A later password sign-in keeps the passkey in amr, and rotates the cookie.
		again, token2, err := s.reauthenticate(ctx, sess.ID, []string{flow.AMRPassword})
		if err != nil {
			t.Fatal(err)
		}
		if token2 == token || again.ID != sess.ID || again.ACR != flow.ACRPhishingResistant {
			t.Fatalf("reauthenticate = %+v", again)
		}
		if _, err := s.byToken(ctx, token); !errors.Is(err, errSessionNotFound) {
			t.Fatal("old cookie value still valid after reauthentication")
		}
		if _, err := s.byToken(ctx, token2); err != nil {
			t.Fatal(err)
		}

		list, err := s.listForUser(ctx, "u1")
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		if err := s.delete(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.byToken(ctx, token2); !errors.Is(err, errSessionNotFound) {
			t.Fatal("deleted session still valid")
		}
		if err := s.delete(ctx, sess.ID); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.addMethods(ctx, sess.ID, []string{flow.AMRHardware}, ""); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("addMethods on ended session: %v", err)
		}
	})
}

func TestSessionStoreTimeouts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := newTestSessionDB(db, clock)

		// Idle: unused for 12 h ends the session.
		idle, idleTok, err := s.create(ctx, newSessionInput{UserID: "u1", AMR: []string{flow.AMRPassword}})
		if err != nil {
			t.Fatal(err)
		}
		// Absolute: used every 11 h, still ends after 7 days.
		_, busyTok, err := s.create(ctx, newSessionInput{UserID: "u2", AMR: []string{flow.AMRPassword}})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(11 * time.Hour)
		if _, err := s.byToken(ctx, busyTok); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := s.byToken(ctx, idleTok); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("idle session alive after 12h: %v", err)
		}
		if _, err := s.byID(ctx, idle.ID); !errors.Is(err, errSessionNotFound) {
			t.Fatal("idle session row kept")
		}
		if _, err := s.byToken(ctx, busyTok); err != nil {
			t.Fatal(err)
		}
		for elapsed := 12 * time.Hour; elapsed+11*time.Hour < 7*24*time.Hour; elapsed += 11 * time.Hour {
			clock.Advance(11 * time.Hour)
			if _, err := s.byToken(ctx, busyTok); err != nil {
				t.Fatalf("busy session ended after %v: %v", elapsed, err)
			}
		}
		clock.Advance(11 * time.Hour)
		if _, err := s.byToken(ctx, busyTok); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("session alive past its absolute timeout: %v", err)
		}
	})
}

func TestSessionStoreDeleteForUserAndExpired(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := newTestSessionDB(db, clock)
		for _, u := range []string{"u1", "u1", "u2"} {
			if _, _, err := s.create(ctx, newSessionInput{UserID: u, AMR: []string{flow.AMRPassword}}); err != nil {
				t.Fatal(err)
			}
		}
		u2, _ := s.listForUser(ctx, "u2")
		if err := s.deleteForUserByID(ctx, "u1", u2[0].ID); !errors.Is(err, errSessionNotFound) {
			t.Fatalf("u1 ended u2's session: %v", err)
		}
		n, err := s.deleteForUser(ctx, "u1")
		if err != nil || n != 2 {
			t.Fatalf("deleteForUser = %d, %v", n, err)
		}
		if l, _ := s.listForUser(ctx, "u2"); len(l) != 1 {
			t.Fatal("other user's session deleted")
		}
		clock.Advance(13 * time.Hour)
		if _, _, err := s.create(ctx, newSessionInput{UserID: "u3", AMR: []string{flow.AMRPassword}}); err != nil {
			t.Fatal(err)
		}
		n, err = s.deleteExpired(ctx)
		if err != nil || n != 1 {
			t.Fatalf("deleteExpired = %d, %v", n, err)
		}
		if l, _ := s.listForUser(ctx, "u3"); len(l) != 1 {
			t.Fatal("live session deleted by clean-up")
		}
	})
}

func TestConsentStore(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := &consentDB{db: db.Gorm, now: clock.Now}
		ok, err := s.covers(ctx, "u1", "c1", []string{"openid"})
		if err != nil || ok {
			t.Fatalf("covers before grant = %v, %v", ok, err)
		}
		if err := s.grant(ctx, "u1", "c1", []string{"openid", "email"}); err != nil {
			t.Fatal(err)
		}
		if err := s.grant(ctx, "u1", "c1", []string{"openid", "profile"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			user, client string
			scopes       []string
			want         bool
		}{
			{"u1", "c1", []string{"openid", "email", "profile"}, true},
			{"u1", "c1", []string{"email"}, true},
			{"u1", "c1", []string{"openid", "roles"}, false},
			{"u1", "c2", []string{"openid"}, false},
			{"u2", "c1", []string{"openid"}, false},
		} {
			ok, err := s.covers(ctx, tc.user, tc.client, tc.scopes)
			if err != nil || ok != tc.want {
				t.Errorf("covers(%s,%s,%v) = %v, %v; want %v", tc.user, tc.client, tc.scopes, ok, err, tc.want)
			}
		}
		if err := s.deleteForUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.covers(ctx, "u1", "c1", []string{"openid"}); ok {
			t.Fatal("consent kept after deleteForUser")
		}
	})
}

// BenchmarkSessionByToken measures the per-request cost of the session
// cookie check (one indexed read; the last_seen_at write is throttled).
func BenchmarkSessionByToken(b *testing.B) {
	db := testutil.NewSQLite(b)
	s := &sessionDB{db: db.Gorm, now: time.Now, timeouts: defaultSessionTimeouts}
	ctx := context.Background()
	_, token, err := s.create(ctx, newSessionInput{UserID: "u1", AMR: []string{flow.AMRPassword}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.byToken(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSessionTokenFormat pins the cookie value and its stored hash (43
// base64url characters; hex SHA-256), so existing sessions stay valid.
func TestSessionTokenFormat(t *testing.T) {
	tok, hash, err := newSessionToken()
	if err != nil || len(tok) != 43 || hash != secret.Hash(tok) || len(hash) != 64 {
		t.Fatalf("newSessionToken = %q, %q, %v", tok, hash, err)
	}
	if got := secret.Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("hashSecret(abc) = %s", got)
	}
}

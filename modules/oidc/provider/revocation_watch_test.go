package provider

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// TestRevocationWatch: the "not revoked" answer a check remembers is never
// used past a revocation — on this replica at once, from another process
// (SQLite) at once, from another replica (PostgreSQL) once notified — and
// without the watch every check looks the token up.
func TestRevocationWatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials},
			Scopes: []string{"users:read"}})
		issue := func(t *testing.T) string {
			t.Helper()
			tk, err := ccConfig(ts, c.ID, secret).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return tk.AccessToken
		}
		// warm checks tok twice and makes sure the second check was
		// answered from the remembered stamp, not a look-up.
		warm := func(t *testing.T, tok string) {
			t.Helper()
			for range 2 {
				if _, body := introspect(t, ts, c.ID, secret, tok); body["active"] != true {
					t.Fatalf("fresh token inactive: %v", body)
				}
			}
			vt := cachedToken(t, ts.p, tok)
			stamp, ok := ts.p.watch.stamp()
			if !ok || vt.notRevokedAt.Load() != stamp+1 {
				t.Fatalf("the watch did not remember the check (watching %v)", ok)
			}
		}

		t.Run("revoked on this replica: seen by the next check", func(t *testing.T) {
			tok := issue(t)
			warm(t, tok)
			if st := revoke(t, ts, c.ID, secret, tok); st != 200 {
				t.Fatalf("revoke: %d", st)
			}
			if _, body := introspect(t, ts, c.ID, secret, tok); body["active"] != false {
				t.Fatalf("a remembered answer outlived the revocation: %v", body)
			}
		})

		t.Run("revoked by another replica or process", func(t *testing.T) {
			tok := issue(t)
			warm(t, tok)
			// A second provider on the same database (a replica, or the CLI
			// disabling a user from its own process) revokes every token of
			// the client's subject.
			other := newTestProvider(t, db, ts.URL, ts.users, ts.p.opts.MasterKey)
			if err := other.UserDeleted(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			seenAfterCommit(t, db, func() error { _, err := ts.p.AuthenticateBearer(ctx, tok); return err })
		})

		t.Run("no watch: every check looks up", func(t *testing.T) {
			c2, secret2 := mustCreateClient(t, ts.p, clients.NewClient{Name: "svc2", GrantTypes: []string{clients.GrantClientCredentials},
				Scopes: []string{"users:read"}})
			tk, err := ccConfig(ts, c2.ID, secret2).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// A provider whose watch never ran (a CLI command, or a replica
			// whose listener is down).
			p := newTestProvider(t, db, ts.URL, ts.users, ts.p.opts.MasterKey)
			p.watch = &revocationWatch{db: db, logger: p.opts.Logger}
			for range 2 {
				if _, err := p.AuthenticateBearer(ctx, tk.AccessToken); err != nil {
					t.Fatalf("fresh token: %v", err)
				}
			}
			// Written behind every watch's back: no notification.
			row := revokedTokenRow{ID: jwtClaims(t, tk.AccessToken)["jti"].(string), Kind: revokedAccessToken,
				RevokedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
			if err := db.Gorm.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := p.AuthenticateBearer(ctx, tk.AccessToken); !errors.Is(err, httpserver.ErrUnauthenticated) {
				t.Fatalf("without the watch a revoked token passed: %v", err)
			}
		})
	})
}

// seenAfterCommit checks that a revocation just committed elsewhere is
// seen: on SQLite by the next check, on PostgreSQL once the notification
// arrives (within 5 s here).
func seenAfterCommit(t *testing.T, db database.DB, check func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := check()
		if errors.Is(err, ErrInvalidToken) || errors.Is(err, httpserver.ErrUnauthenticated) {
			return
		}
		if db.Dialect == database.SQLite || time.Now().After(deadline) {
			t.Fatalf("a revocation elsewhere is not seen: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// cachedToken is the verified cache's entry for tok.
func cachedToken(t *testing.T, p *Provider, tok string) *verifiedToken {
	t.Helper()
	vt, ok := p.verified.Get(sha256.Sum256([]byte(tok)))
	if !ok {
		t.Fatal("token not in the verified cache")
	}
	return vt
}

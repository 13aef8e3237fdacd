package clients

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

func mustCreate(t testing.TB, s *Service, n NewClient) (Client, string) {
	t.Helper()
	c, plain, err := s.Create(oidctest.SystemCtx(), n)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return c, plain
}

func TestService(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		p := New(db, Deps{Audit: audit.New(db)}, Options{Now: clock.Now})
		ctx := oidctest.SystemCtx()

		c, plain := mustCreate(t, p, NewClient{Name: " App ", RedirectURIs: []string{"https://app.test/cb"}, Scopes: []string{"roles", "openid"}})
		if c.Name != "App" || !slices.Equal(c.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}) || c.IDTokenAlg != AlgRS256 {
			t.Errorf("defaults not applied: %+v", c)
		}
		if len(plain) < 43 { // 32 bytes base64url
			t.Errorf("secret too short: %d", len(plain))
		}
		got, err := p.Get(ctx, c.ID)
		if err != nil || got.Name != "App" || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("Client = %+v, %v", got, err)
		}
		var stored []clientSecretRow
		db.Gorm.Where("client_id = ?", c.ID).Find(&stored)
		if len(stored) != 1 || stored[0].SecretHash != secret.Hash(plain) || stored[0].SecretHash == plain {
			t.Errorf("secret not stored as SHA-256: %+v", stored)
		}
		if _, err := p.Authenticate(ctx, c.ID, plain); err != nil {
			t.Errorf("authenticate: %v", err)
		}

		t.Run("secret rotation keeps the old one for the overlap", func(t *testing.T) {
			s2, err := p.RotateSecret(ctx, c.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{plain, s2} {
				if _, err := p.Authenticate(ctx, c.ID, s); err != nil {
					t.Errorf("secret rejected during overlap: %v", err)
				}
			}
			clock.Advance(time.Hour + time.Second)
			p.cache.invalidate(c.ID)
			if _, err := p.Authenticate(ctx, c.ID, plain); err == nil {
				t.Errorf("old secret accepted after overlap")
			}
			if _, err := p.Authenticate(ctx, c.ID, s2); err != nil {
				t.Errorf("new secret rejected: %v", err)
			}
		})

		t.Run("update", func(t *testing.T) {
			name := "Renamed"
			alg := AlgES256
			uris := []string{"https://app.test/cb2"}
			up, err := p.Update(ctx, c.ID, ClientUpdate{Name: &name, IDTokenAlg: &alg, RedirectURIs: &uris})
			if err != nil {
				t.Fatal(err)
			}
			if up.Name != name || up.IDTokenAlg != AlgES256 || !slices.Equal(up.RedirectURIs, uris) || !up.UpdatedAt.After(c.UpdatedAt) {
				t.Errorf("update = %+v", up)
			}
			empty := []string{}
			if _, err := p.Update(ctx, c.ID, ClientUpdate{RedirectURIs: &empty}); !isInvalid(err) {
				t.Errorf("removing every redirect URI of a code client: %v", err)
			}
			if _, err := p.Update(ctx, "nope", ClientUpdate{Name: &name}); !errors.Is(err, ErrNotFound) {
				t.Errorf("update unknown: %v", err)
			}
		})

		t.Run("list pages by cursor", func(t *testing.T) {
			for i := 0; i < 4; i++ {
				mustCreate(t, p, NewClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}})
			}
			var ids []string
			tok := ""
			for pages := 0; ; pages++ {
				page, err := p.List(ctx, 2, tok)
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
			if _, err := p.List(ctx, 2, "!!"); !isInvalid(err) {
				t.Errorf("bad page token: %v", err)
			}
		})

		t.Run("delete", func(t *testing.T) {
			if err := p.Delete(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Get(ctx, c.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleted client still there: %v", err)
			}
			if _, err := p.Authenticate(ctx, c.ID, plain); err == nil {
				t.Errorf("deleted client authenticates")
			}
			if err := p.Delete(ctx, c.ID); !errors.Is(err, ErrNotFound) {
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

// deleteRecorder is a DeleteListener that fails when told to.
type deleteRecorder struct {
	got  []string
	fail error
}

func (d *deleteRecorder) ClientDeleted(_ context.Context, id string) error {
	d.got = append(d.got, id)
	return d.fail
}

func TestDeleteTellsListenersInTheTransaction(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		s := New(db, Deps{Audit: audit.New(db)}, Options{})
		l := &deleteRecorder{fail: errors.New("boom")}
		s.AddDeleteListener(l)
		c, _ := mustCreate(t, s, NewClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}})
		if err := s.Delete(oidctest.SystemCtx(), c.ID); err == nil {
			t.Fatal("delete succeeded although a listener failed")
		}
		if _, err := s.Get(context.Background(), c.ID); err != nil {
			t.Fatalf("a failed listener did not roll the delete back: %v", err)
		}
		l.fail = nil
		if err := s.Delete(oidctest.SystemCtx(), c.ID); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.got, []string{c.ID, c.ID}) {
			t.Errorf("listener told %v", l.got)
		}
	})
}

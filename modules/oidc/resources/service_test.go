package resources

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

func TestService(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		s := New(db, audit.New(db), Options{Now: clock.Now})
		ctx := oidctest.SystemCtx()

		r, err := s.Create(ctx, NewResource{Identifier: " https://api.example.com ", Name: "Invoices",
			Scopes: []string{"invoices:read", "invoices:read", "invoices:write"}, ClientIDs: []string{"c1"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Identifier != "https://api.example.com" || !slices.Equal(r.Scopes, []string{"invoices:read", "invoices:write"}) {
			t.Errorf("not normalized: %+v", r)
		}
		if _, err := s.Create(ctx, NewResource{Identifier: "https://api.example.com", Name: "Again"}); !errors.Is(err, ErrIdentifierTaken) {
			t.Errorf("duplicate identifier: %v, want ErrIdentifierTaken", err)
		}
		for _, bad := range []string{"api.example.com", "https://api.example.com/#x", "", "/relative"} {
			_, err := s.Create(ctx, NewResource{Identifier: bad, Name: "Bad"})
			if ve, ok := validation.As(err); !ok || ve.Field != "identifier" {
				t.Errorf("identifier %q: %v, want a validation error on identifier", bad, err)
			}
		}
		got, err := s.ByIdentifier(ctx, "https://api.example.com")
		if err != nil || got.ID != r.ID || !got.HasClient("c1") || got.HasClient("c2") {
			t.Fatalf("ByIdentifier = %+v, %v", got, err)
		}
		if lim := got.LimitScopes([]string{"openid", "invoices:write", "users:read"}); !slices.Equal(lim, []string{"invoices:write"}) {
			t.Errorf("LimitScopes = %v", lim)
		}
		if _, err := s.ByIdentifier(ctx, "https://other.example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown identifier: %v", err)
		}
		// Update: nil fields kept, lists replaced and normalized, the
		// token path's cache refreshed, validation as on create.
		clock.Advance(time.Second)
		scopes, clientIDs := []string{" invoices:read ", "invoices:admin"}, []string{"c2", "c2"}
		up, err := s.Update(ctx, r.ID, Update{Scopes: &scopes, ClientIDs: &clientIDs})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Invoices" || !slices.Equal(up.Scopes, []string{"invoices:read", "invoices:admin"}) ||
			!slices.Equal(up.ClientIDs, []string{"c2"}) || !up.UpdatedAt.After(r.UpdatedAt) || up.Identifier != r.Identifier {
			t.Errorf("Update = %+v", up)
		}
		if got, _ := s.ByIdentifier(ctx, r.Identifier); !got.HasClient("c2") || got.HasClient("c1") {
			t.Errorf("ByIdentifier after Update = %+v (stale cache?)", got)
		}
		name, badScopes := "Billing", []string{"two words"}
		if _, err := s.Update(ctx, r.ID, Update{Name: &name, Scopes: &badScopes}); func() bool {
			ve, ok := validation.As(err)
			return !ok || ve.Field != "scopes"
		}() {
			t.Errorf("invalid scope: %v, want a validation error on scopes", err)
		}
		if got, _ := s.Get(ctx, r.ID); got.Name != "Invoices" {
			t.Errorf("a refused update changed the name: %+v", got)
		}
		if _, err := s.Update(ctx, r.ID, Update{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, "nope", Update{Name: &name}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		events, err := audit.New(db).List(ctx, audit.Filter{Action: "resource.update"})
		if err != nil || len(events.Items) != 2 || events.Items[0].Details["name"] != "Billing" ||
			events.Items[1].Details["client_ids"] != "c2" || events.Items[1].Details["name"] != "" {
			t.Errorf("resource.update events = %+v, %v", events, err)
		}

		l, err := s.List(ctx, 0, "")
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("List = %+v, %v", l, err)
		}
		if err := s.Delete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ByIdentifier(ctx, "https://api.example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted API still found: %v", err)
		}
		if err := s.Delete(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

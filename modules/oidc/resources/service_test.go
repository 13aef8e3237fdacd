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

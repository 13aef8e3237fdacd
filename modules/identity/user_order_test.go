package identity_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// TestListUsersOrders pages through users in each order, two at a time, on
// both databases: every user once, in the order's sequence, with repeated
// and empty names. A cursor from another order is refused.
func TestListUsersOrders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		ctx := context.Background()
		// Created in this order; emails and names sort differently.
		for _, u := range []struct{ email, name string }{
			{"delta@example.com", "Bea"}, {"alpha@example.com", "Cy"}, {"Charlie@example.com", ""},
			{"bravo@example.com", "bea"}, {"echo@example.com", "Al"}, {"foxtrot@example.com", ""},
		} {
			mustCreate(t, svc, identity.NewUser{Email: u.email, Name: u.name})
		}
		list := func(f identity.UserFilter) ([]string, string) {
			t.Helper()
			var got []string
			f.PageSize = 2
			first := ""
			for {
				p, err := svc.ListUsers(ctx, f)
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				for _, u := range p.Items {
					got = append(got, strings.TrimSuffix(strings.ToLower(u.Email), "@example.com"))
				}
				if first == "" {
					first = p.NextPageToken
				}
				if p.NextPageToken == "" {
					return got, first
				}
				f.PageToken = p.NextPageToken
			}
		}
		// Names normalize case-insensitively; equal names ("", "Bea" and
		// "bea") go by id, that is by creation.
		for sort, want := range map[string][]string{
			"":                   {"delta", "alpha", "charlie", "bravo", "echo", "foxtrot"},
			identity.SortCreated: {"delta", "alpha", "charlie", "bravo", "echo", "foxtrot"},
			identity.SortEmail:   {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"},
			identity.SortName:    {"charlie", "foxtrot", "echo", "delta", "bravo", "alpha"},
		} {
			if got, _ := list(identity.UserFilter{Sort: sort}); !slices.Equal(got, want) {
				t.Errorf("sort %q: %v, want %v", sort, got, want)
			}
		}
		// With a search and a status filter, still in order.
		if got, _ := list(identity.UserFilter{Sort: identity.SortEmail, Query: "b", Status: identity.StatusActive}); !slices.Equal(got, []string{"bravo", "delta"}) {
			t.Errorf("email order, q=b: %v", got)
		}
		_, nameCursor := list(identity.UserFilter{Sort: identity.SortName})
		_, idCursor := list(identity.UserFilter{})
		for _, c := range []struct {
			sort, token string
		}{{identity.SortEmail, nameCursor}, {identity.SortEmail, idCursor}, {"", nameCursor}, {identity.SortName, idCursor}, {identity.SortName, page.Encode("name", "x", "y")}} {
			if _, err := svc.ListUsers(ctx, identity.UserFilter{Sort: c.sort, PageToken: c.token}); !errors.Is(err, page.ErrBadToken) {
				t.Errorf("sort %q with a cursor of another order: %v, want ErrBadToken", c.sort, err)
			}
		}
		if _, err := svc.ListUsers(ctx, identity.UserFilter{Sort: "password"}); err == nil {
			t.Error("an unknown order is accepted")
		} else if ve, ok := validation.As(err); !ok || ve.Field != "sort" {
			t.Errorf("an unknown order: %v, want a validation error on sort", err)
		}
	})
}

package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seed records events e1..e6 at t0+i minutes, except e4 which shares e3's
// time (the id breaks the tie).
func seed(t *testing.T, svc *audit.Service) []audit.Event {
	t.Helper()
	ctx := context.Background()
	evs := []audit.Event{
		{ID: "01-e1", Time: t0.Add(1 * time.Minute), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "user.create", Target: audit.Ref{Type: "user", ID: "bob"}},
		{ID: "02-e2", Time: t0.Add(2 * time.Minute), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "apikey.create", Target: audit.Ref{Type: "api_key", ID: "k1"}},
		{ID: "03-e3", Time: t0.Add(3*time.Minute + 123456*time.Microsecond), Actor: audit.Ref{Type: "user", ID: "bob"}, Action: "apikey.revoke", Target: audit.Ref{Type: "api_key", ID: "k1"}},
		{ID: "04-e4", Time: t0.Add(3*time.Minute + 123456*time.Microsecond), Actor: audit.Ref{Type: "system", ID: "gatehouse"}, Action: "user.create", Target: audit.Ref{Type: "user", ID: "carol"}},
		{ID: "05-e5", Time: t0.Add(5 * time.Minute), Actor: audit.Ref{Type: "user", ID: "bob"}, Action: "login.failure", Target: audit.Ref{Type: "user", ID: "bob"}, Outcome: audit.Failure},
		{ID: "06-e6", Time: t0.Add(6*time.Minute + 5*time.Microsecond), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "user.update", Target: audit.Ref{Type: "user", ID: "k1"}},
	}
	for _, e := range evs {
		if err := svc.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return evs
}

func ids(evs []audit.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListFilters(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		seed(t, svc)
		ctx := context.Background()
		tests := []struct {
			name string
			f    audit.Filter
			want []string
		}{
			{"all newest first, id breaks ties", audit.Filter{}, []string{"06-e6", "05-e5", "04-e4", "03-e3", "02-e2", "01-e1"}},
			{"actor", audit.Filter{ActorID: "alice"}, []string{"06-e6", "02-e2", "01-e1"}},
			{"action", audit.Filter{Action: "user.create"}, []string{"04-e4", "01-e1"}},
			{"target type and id", audit.Filter{TargetType: "api_key", TargetID: "k1"}, []string{"03-e3", "02-e2"}},
			{"target id alone", audit.Filter{TargetID: "k1"}, []string{"06-e6", "03-e3", "02-e2"}},
			{"since inclusive", audit.Filter{Since: t0.Add(3*time.Minute + 123456*time.Microsecond)}, []string{"06-e6", "05-e5", "04-e4", "03-e3"}},
			{"until inclusive", audit.Filter{Until: t0.Add(2 * time.Minute)}, []string{"02-e2", "01-e1"}},
			{"since and until", audit.Filter{Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}, []string{"05-e5", "04-e4", "03-e3", "02-e2"}},
			{"since in another zone", audit.Filter{Since: t0.Add(5 * time.Minute).In(time.FixedZone("x", 3600))}, []string{"06-e6", "05-e5"}},
			{"combined", audit.Filter{ActorID: "bob", Action: "apikey.revoke"}, []string{"03-e3"}},
			{"no match", audit.Filter{ActorID: "nobody"}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := svc.List(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page.Items); !equal(got, tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				if page.NextPageToken != "" {
					t.Fatalf("unexpected next page token %q", page.NextPageToken)
				}
			})
		}
		page, err := svc.List(ctx, audit.Filter{ActorID: "bob", Action: "login.failure"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("page = %+v, %v", page, err)
		}
		got := page.Items[0]
		if got.Outcome != audit.Failure || got.Target != (audit.Ref{Type: "user", ID: "bob"}) || !got.Time.Equal(t0.Add(5*time.Minute)) || got.Time.Location() != time.UTC {
			t.Fatalf("event = %+v", got)
		}
	})
}

func TestListPagination(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		seed(t, svc)
		ctx := context.Background()
		for _, size := range []int{1, 2, 3, 5, 6} {
			var all []string
			tok := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("size %d: pagination does not end", size)
				}
				page, err := svc.List(ctx, audit.Filter{PageSize: size, PageToken: tok})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > size {
					t.Fatalf("size %d: page of %d", size, len(page.Items))
				}
				all = append(all, ids(page.Items)...)
				if page.NextPageToken == "" {
					break
				}
				tok = page.NextPageToken
			}
			want := []string{"06-e6", "05-e5", "04-e4", "03-e3", "02-e2", "01-e1"}
			if !equal(all, want) {
				t.Fatalf("size %d: got %v, want %v", size, all, want)
			}
		}

		// A token keeps its place when newer events arrive.
		page, err := svc.List(ctx, audit.Filter{PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Record(ctx, audit.Event{ID: "07-e7", Time: t0.Add(time.Hour), Action: "user.delete"}); err != nil {
			t.Fatal(err)
		}
		page, err = svc.List(ctx, audit.Filter{PageSize: 2, PageToken: page.NextPageToken})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(page.Items); !equal(got, []string{"04-e4", "03-e3"}) {
			t.Fatalf("second page after insert = %v", got)
		}
	})
}

func TestListInvalidFilter(t *testing.T) {
	db := testutil.NewSQLite(t)
	svc := audit.New(db)
	for name, f := range map[string]audit.Filter{
		"page size too big":   {PageSize: page.MaxSize + 1},
		"negative page size":  {PageSize: -1},
		"token not base64":    {PageToken: "!!!"},
		"token without id":    {PageToken: "MjAyNS0wMS0wMVQwMDowMDowMFo"},
		"token with bad time": {PageToken: "eHx5"},
		"since after until":   {Since: t0.Add(time.Hour), Until: t0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := svc.List(context.Background(), f)
			if _, ok := httpserver.InputProblem(err); !ok {
				t.Fatalf("err = %v, want an input error", err)
			}
		})
	}
}

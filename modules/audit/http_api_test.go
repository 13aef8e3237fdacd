package audit_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// newServer mounts the audit API on a real server; "auditor" may read the
// log, "user" may not.
func newServer(t *testing.T, db database.DB) (*testutil.API, *testutil.FakeAuthorizer) {
	t.Helper()
	az := &testutil.FakeAuthorizer{Grants: map[string][]string{"auditor": {"*:read"}}}
	api := testutil.NewAPI(t, httpserver.Options{}, audit.NewModule(audit.New(db), az))
	api.User("auditor", "auditor")
	api.User("user", "user")
	return api, az
}

func get(t *testing.T, api *testutil.API, token, path string) (int, string, http.Header) {
	t.Helper()
	res := api.Do(t, http.MethodGet, strings.TrimPrefix(path, "/api/v1"), token, "")
	return res.Status, res.Body, res.Header
}

// wantIDs checks that a list answer holds exactly the events ids, in order.
func wantIDs(ids ...string) func(*testing.T, testutil.Response) {
	return func(t *testing.T, res testutil.Response) {
		t.Helper()
		var out struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, it := range out.Items {
			got = append(got, it.ID)
		}
		if !equal(got, ids) {
			t.Fatalf("ids %v, want %v", got, ids)
		}
	}
}

func TestHTTPListAuditEvents(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		seed(t, audit.New(db))
		api, az := newServer(t, db)

		api.Run(t, []testutil.Scenario{
			{Name: "no credential", Method: "GET", Path: "/audit-events", WantStatus: 401},
			{Name: "bad credential", Token: "nope", Method: "GET", Path: "/audit-events", WantStatus: 401},
			{Name: "not allowed", Token: "user", Method: "GET", Path: "/audit-events", WantStatus: 403},
			{Name: "all", Token: "auditor", Method: "GET", Path: "/audit-events", WantStatus: 200, Check: wantIDs("06-e6", "05-e5", "04-e4", "03-e3", "02-e2", "01-e1")},
			{Name: "actor", Token: "auditor", Method: "GET", Path: "/audit-events?actor=alice", WantStatus: 200, Check: wantIDs("06-e6", "02-e2", "01-e1")},
			{Name: "actor type:id", Token: "auditor", Method: "GET", Path: "/audit-events?actor=system:gatehouse", WantStatus: 200, Check: wantIDs("04-e4")},
			{Name: "actor of another type", Token: "auditor", Method: "GET", Path: "/audit-events?actor=client:alice", WantStatus: 200, Check: wantIDs()},
			{Name: "actor type without id", Token: "auditor", Method: "GET", Path: "/audit-events?actor=user:", WantStatus: 422, WantContains: []string{"query.actor"}},
			{Name: "action", Token: "auditor", Method: "GET", Path: "/audit-events?action=user.create", WantStatus: 200, Check: wantIDs("04-e4", "01-e1")},
			{Name: "target type:id", Token: "auditor", Method: "GET", Path: "/audit-events?target=api_key:k1", WantStatus: 200, Check: wantIDs("03-e3", "02-e2")},
			{Name: "target id", Token: "auditor", Method: "GET", Path: "/audit-events?target=k1", WantStatus: 200, Check: wantIDs("06-e6", "03-e3", "02-e2")},
			{Name: "since until", Token: "auditor", Method: "GET", Path: "/audit-events?since=2025-03-01T12:02:00Z&until=2025-03-01T13:05:00%2B01:00", WantStatus: 200, Check: wantIDs("05-e5", "04-e4", "03-e3", "02-e2")},
			{Name: "bad since", Token: "auditor", Method: "GET", Path: "/audit-events?since=yesterday", WantStatus: 422, WantContains: []string{"query.since"}},
			{Name: "bad until", Token: "auditor", Method: "GET", Path: "/audit-events?until=2025-13-01T00:00:00Z", WantStatus: 422, WantContains: []string{"query.until"}},
			{Name: "since after until", Token: "auditor", Method: "GET", Path: "/audit-events?since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", WantStatus: 422, WantContains: []string{"since"}},
			{Name: "bad target", Token: "auditor", Method: "GET", Path: "/audit-events?target=user:", WantStatus: 422, WantContains: []string{"query.target"}},
			{Name: "page size too big", Token: "auditor", Method: "GET", Path: "/audit-events?page_size=201", WantStatus: 422, WantContains: []string{"page_size"}},
			{Name: "page size zero", Token: "auditor", Method: "GET", Path: "/audit-events?page_size=0", WantStatus: 422, WantContains: []string{"page_size"}},
			{Name: "page size not a number", Token: "auditor", Method: "GET", Path: "/audit-events?page_size=ten", WantStatus: 422, WantContains: []string{"page_size"}},
			{Name: "bad page token", Token: "auditor", Method: "GET", Path: "/audit-events?page_token=garbage!", WantStatus: 400, WantContains: []string{"page_token"}},
		}...)
		if asked := az.Asked(); len(asked) == 0 || asked[0] != "audit-events:* read" {
			t.Fatalf("authorizer asked %v", asked)
		}
	})
}

func TestHTTPAuditEventShapeAndPaging(t *testing.T) {
	db := testutil.NewSQLite(t)
	seed(t, audit.New(db))
	ts, _ := newServer(t, db)

	status, body, _ := get(t, ts, "auditor", "/api/v1/audit-events?action=login.failure")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var raw struct {
		Items         []map[string]any `json:"items"`
		NextPageToken *string          `json:"next_page_token"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Items) != 1 || raw.NextPageToken == nil || *raw.NextPageToken != "" {
		t.Fatalf("body = %s", body)
	}
	var keys []string
	for k := range raw.Items[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"action", "actor", "id", "ip", "outcome", "target", "time", "user_agent"}
	if !equal(keys, want) {
		t.Fatalf("item keys %v, want %v", keys, want)
	}
	it := raw.Items[0]
	if it["time"] != "2025-03-01T12:05:00Z" || it["outcome"] != "failure" {
		t.Fatalf("item = %v", it)
	}
	if a, _ := it["actor"].(map[string]any); a["type"] != "user" || a["id"] != "bob" || len(a) != 2 {
		t.Fatalf("actor = %v", it["actor"])
	}

	var seen []string
	path := "/api/v1/audit-events?page_size=4"
	for i := 0; i < 5; i++ {
		status, body, _ := get(t, ts, "auditor", path)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var out struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextPageToken string `json:"next_page_token"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			seen = append(seen, it.ID)
		}
		if out.NextPageToken == "" {
			break
		}
		path = "/api/v1/audit-events?page_size=4&page_token=" + out.NextPageToken
	}
	if !equal(seen, []string{"06-e6", "05-e5", "04-e4", "03-e3", "02-e2", "01-e1"}) {
		t.Fatalf("paged ids = %v", seen)
	}
}

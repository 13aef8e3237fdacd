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

func TestHTTPListAuditEvents(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		seed(t, audit.New(db))
		ts, az := newServer(t, db)

		tests := []struct {
			name, token, path string
			wantStatus        int
			wantIDs           []string
			wantContains      string
		}{
			{name: "no credential", path: "/api/v1/audit-events", wantStatus: 401},
			{name: "bad credential", token: "nope", path: "/api/v1/audit-events", wantStatus: 401},
			{name: "not allowed", token: "user", path: "/api/v1/audit-events", wantStatus: 403},
			{name: "all", token: "auditor", path: "/api/v1/audit-events", wantStatus: 200, wantIDs: []string{"06-e6", "05-e5", "04-e4", "03-e3", "02-e2", "01-e1"}},
			{name: "actor", token: "auditor", path: "/api/v1/audit-events?actor=alice", wantStatus: 200, wantIDs: []string{"06-e6", "02-e2", "01-e1"}},
			{name: "actor type:id", token: "auditor", path: "/api/v1/audit-events?actor=system:gatehouse", wantStatus: 200, wantIDs: []string{"04-e4"}},
			{name: "actor of another type", token: "auditor", path: "/api/v1/audit-events?actor=client:alice", wantStatus: 200, wantIDs: []string{}},
			{name: "actor type without id", token: "auditor", path: "/api/v1/audit-events?actor=user:", wantStatus: 422, wantContains: "query.actor"},
			{name: "action", token: "auditor", path: "/api/v1/audit-events?action=user.create", wantStatus: 200, wantIDs: []string{"04-e4", "01-e1"}},
			{name: "target type:id", token: "auditor", path: "/api/v1/audit-events?target=api_key:k1", wantStatus: 200, wantIDs: []string{"03-e3", "02-e2"}},
			{name: "target id", token: "auditor", path: "/api/v1/audit-events?target=k1", wantStatus: 200, wantIDs: []string{"06-e6", "03-e3", "02-e2"}},
			{name: "since until", token: "auditor", path: "/api/v1/audit-events?since=2025-03-01T12:02:00Z&until=2025-03-01T13:05:00%2B01:00", wantStatus: 200, wantIDs: []string{"05-e5", "04-e4", "03-e3", "02-e2"}},
			{name: "bad since", token: "auditor", path: "/api/v1/audit-events?since=yesterday", wantStatus: 422, wantContains: "query.since"},
			{name: "bad until", token: "auditor", path: "/api/v1/audit-events?until=2025-13-01T00:00:00Z", wantStatus: 422, wantContains: "query.until"},
			{name: "since after until", token: "auditor", path: "/api/v1/audit-events?since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", wantStatus: 422, wantContains: "since"},
			{name: "bad target", token: "auditor", path: "/api/v1/audit-events?target=user:", wantStatus: 422, wantContains: "query.target"},
			{name: "page size too big", token: "auditor", path: "/api/v1/audit-events?page_size=201", wantStatus: 422, wantContains: "page_size"},
			{name: "page size zero", token: "auditor", path: "/api/v1/audit-events?page_size=0", wantStatus: 422, wantContains: "page_size"},
			{name: "page size not a number", token: "auditor", path: "/api/v1/audit-events?page_size=ten", wantStatus: 422, wantContains: "page_size"},
			{name: "bad page token", token: "auditor", path: "/api/v1/audit-events?page_token=garbage!", wantStatus: 400, wantContains: "page_token"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body, hdr := get(t, ts, tt.token, tt.path)
				if status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
				}
				if status >= 400 && !strings.Contains(hdr.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("content type %q for an error", hdr.Get("Content-Type"))
				}
				if !strings.Contains(body, tt.wantContains) {
					t.Fatalf("body does not contain %q: %s", tt.wantContains, body)
				}
				if tt.wantIDs == nil {
					return
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
				var got []string
				for _, it := range out.Items {
					got = append(got, it.ID)
				}
				if !equal(got, tt.wantIDs) {
					t.Fatalf("ids %v, want %v", got, tt.wantIDs)
				}
			})
		}
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

package admin

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

func TestAuditPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	c.post("/admin/users", url.Values{"email": {"a@example.com"}}).want(t, http.StatusSeeOther)

	r := c.get("/admin/audit")
	r.want(t, http.StatusOK, "user.create", "user:"+c.as, `<label for="actor">Actor</label>`, `<label for="action">Action</label>`)
	// Newest first: the console's create comes before the set-up's.
	if strings.Index(r.body, "user:"+c.as) > strings.Index(r.body, "system:") && strings.Contains(r.body, "system:") {
		t.Error("events are not newest first")
	}
	c.get("/admin/audit?action=role.assign").want(t, http.StatusOK, "No events match")
	c.get("/admin/audit?actor=user:"+c.as+"&action=user.create").want(t, http.StatusOK, "user.create")

	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get("/admin/audit").want(t, http.StatusForbidden)
}

var at0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seedAudit records 12 events, ev-00 .. ev-11, one a minute from at0,
// alternating actors alice and bob, and actions user.update and
// login.failure every third; each targets user:ev-NN, so the page's target
// column names the event.
func seedAudit(t *testing.T, c *console) {
	t.Helper()
	for i := range 12 {
		e := audit.Event{Time: at0.Add(time.Duration(i) * time.Minute), Actor: audit.Ref{Type: "user", ID: []string{"alice", "bob"}[i%2]},
			Action: "user.update", Target: audit.Ref{Type: "user", ID: fmt.Sprintf("ev-%02d", i)}, IP: "192.0.2.1"}
		if i%3 == 0 {
			e.Action = "login.failure"
		}
		if err := c.audit.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

var evRef = regexp.MustCompile(`ev-\d\d`)

// shown is the events a page's table lists, in its order.
func shown(body string) string {
	_, rows, _ := strings.Cut(body, "<tbody>")
	rows, _, _ = strings.Cut(rows, "</tbody>")
	return strings.Join(evRef.FindAllString(rows, -1), " ")
}

func TestAuditPageFilters(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		c.as = c.user("auditor@example.com", "Auditor", "auditor")
		seedAudit(t, c)

		r := c.get("/admin/audit")
		r.want(t, http.StatusOK, `<label for="target">Target</label>`, `<label for="since">Since (UTC)</label>`, `<label for="until">Until (UTC)</label>`,
			`type="datetime-local" id="since"`, "Export CSV", "Export JSON lines")
		if got := shown(r.body); got != "ev-11 ev-10 ev-09 ev-08 ev-07 ev-06 ev-05 ev-04 ev-03 ev-02 ev-01 ev-00" {
			t.Fatalf("unfiltered: %s", got)
		}
		for _, tt := range []struct{ query, want string }{
			{"actor=alice&action=user.update&since=2025-03-01T12:02&until=2025-03-01T12:08", "ev-08 ev-04 ev-02"},
			{"actor=user:bob&action=login.failure", "ev-09 ev-03"},
			{"actor=bob&since=2025-03-01T12:05:00&until=2025-03-01T12:07:00", "ev-07 ev-05"},
			{"since=2025-03-01T13:09:30%2B01:00", "ev-11 ev-10"},
			{"until=2025-03-01T12:00:59", "ev-00"},
			{"target=user:ev-04", "ev-04"},
			{"target=ev-05&action=user.update", "ev-05"},
			{"target=role:ev-05", ""},
		} {
			r := c.get("/admin/audit?" + tt.query)
			r.want(t, http.StatusOK)
			if got := shown(r.body); got != tt.want {
				t.Errorf("%s: %q, want %q", tt.query, got, tt.want)
			}
		}
		// The form shows the window as its inputs take it.
		c.get("/admin/audit?since=2025-03-01T12:02&until=2025-03-01T13:08:00%2B01:00").want(t, http.StatusOK,
			`value="2025-03-01T12:02:00"`, `value="2025-03-01T12:08:00"`)

		for _, tt := range []struct{ query, msg string }{
			{"since=yesterday", "Since must be a date and time in UTC such as 2025-01-02T15:04."},
			{"until=2025-02-30T10:00", "Until must be a date and time in UTC such as 2025-01-02T15:04."},
			{"since=2025-03-01T12:08&until=2025-03-01T12:02", "Since is after until."},
			{"target=user:", "Target must be type:id, such as user:&lt;id&gt;, or an id."},
			{"actor=user:", "Actor must be an id or type:id"},
			{"action=user.update&page_token=garbage!", "This page link is not one the audit log made"},
		} {
			r := c.get("/admin/audit?" + tt.query)
			r.want(t, http.StatusBadRequest, tt.msg, `<label for="since">Since (UTC)</label>`, `role="alert"`)
			if strings.Contains(r.body, "Export CSV") || shown(r.body) != "" {
				t.Errorf("%s: a refused filter still lists or exports events", tt.query)
			}
		}
	})
}

func TestAuditPageNextKeepsFilters(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("auditor@example.com", "Auditor", "auditor")
	for i := range 60 {
		e := audit.Event{Time: at0.Add(time.Duration(i) * time.Second), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "user.update",
			Target: audit.Ref{Type: "user", ID: fmt.Sprintf("ev-%02d", i)}}
		if err := c.audit.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	// 55 events from 12:00:05 on: 50 on the first page, 5 on the next.
	r := c.get("/admin/audit?actor=alice&since=2025-03-01T12:00:05")
	r.want(t, http.StatusOK)
	next := regexp.MustCompile(`href="([^"]*)" rel="next"`).FindStringSubmatch(r.body)
	if next == nil || len(strings.Fields(shown(r.body))) != 50 {
		t.Fatalf("no next link after 50 events:\n%s", r.body)
	}
	href := html.UnescapeString(next[1])
	if !strings.Contains(href, "actor=alice") || !strings.Contains(href, "since=2025-03-01T12%3A00%3A05") {
		t.Fatalf("next link %s lost the filters", href)
	}
	r = c.get(href)
	r.want(t, http.StatusOK)
	if got := shown(r.body); got != "ev-09 ev-08 ev-07 ev-06 ev-05" || strings.Contains(r.body, `rel="next"`) {
		t.Fatalf("second page: %s", got)
	}
}

// download fetches an export, with its headers.
func (c *console) download(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func wantAttachment(t *testing.T, rec *httptest.ResponseRecorder, contentType, ext string) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type %q, want %q", got, contentType)
	}
	today := time.Now().UTC()
	cd := rec.Header().Get("Content-Disposition")
	if cd != `attachment; filename="gatehouse-audit-`+today.Format("2006-01-02")+ext+`"` &&
		cd != `attachment; filename="gatehouse-audit-`+today.Add(-time.Hour).Format("2006-01-02")+ext+`"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func TestAuditExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		c.as = c.user("auditor@example.com", "Auditor", "auditor")
		seedAudit(t, c)
		crafted := audit.Event{Time: at0.Add(30 * time.Second), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "user.update",
			Target: audit.Ref{Type: "user", ID: "=cmd|' /C calc'!A0"}, UserAgent: "Agent \"x\", y\nz"}
		if err := c.audit.Record(context.Background(), crafted); err != nil {
			t.Fatal(err)
		}

		// The page links the export of what it shows.
		c.get("/admin/audit?actor=alice&action=user.update").want(t, http.StatusOK,
			`href="/admin/audit/export?action=user.update&amp;actor=alice&amp;format=csv"`,
			`href="/admin/audit/export?action=user.update&amp;actor=alice&amp;format=jsonl"`)

		rec := c.download("/admin/audit/export?format=csv&actor=alice&action=user.update&since=2025-03-01T12:00&until=2025-03-01T12:08")
		wantAttachment(t, rec, "text/csv; charset=utf-8", ".csv")
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, row := range rows[1:] {
			targets = append(targets, row[6])
		}
		if rows[0][0] != "id" || strings.Join(targets, " ") != "ev-08 ev-04 ev-02 '=cmd|' /C calc'!A0" {
			t.Fatalf("CSV rows %q", rows)
		}
		if last := rows[len(rows)-1]; last[4] != "user.update" || last[9] != crafted.UserAgent || last[1] != "2025-03-01T12:00:30Z" {
			t.Fatalf("crafted row %q", last)
		}

		rec = c.download("/admin/audit/export?format=jsonl&actor=user:bob&action=login.failure")
		wantAttachment(t, rec, "application/x-ndjson", ".jsonl")
		lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("JSON lines %q", lines)
		}
		var shape map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &shape); err != nil {
			t.Fatal(err)
		}
		keys := slices.Sorted(maps.Keys(shape))
		if want := []string{"action", "actor", "id", "ip", "outcome", "target", "time", "user_agent"}; !slices.Equal(keys, want) {
			t.Fatalf("line keys %v, want the API's %v", keys, want)
		}
		var e struct {
			ID      string    `json:"id"`
			Time    time.Time `json:"time"`
			Actor   audit.Ref `json:"actor"`
			Target  audit.Ref `json:"target"`
			Outcome string    `json:"outcome"`
			IP      string    `json:"ip"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.ID == "" || e.Target.ID != "ev-09" || e.Actor != (audit.Ref{Type: "user", ID: "bob"}) ||
			!e.Time.Equal(at0.Add(9*time.Minute)) || e.Outcome != audit.Success || e.IP != "192.0.2.1" {
			t.Fatalf("line %s: %+v (%v)", lines[0], e, err)
		}

		for _, bad := range []string{"format=xml", "format=csv&since=yesterday", "format=jsonl&target=:x", "actor=alice"} {
			rec := c.download("/admin/audit/export?" + bad)
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Disposition") != "" {
				t.Errorf("%s: %d %q", bad, rec.Code, rec.Header().Get("Content-Disposition"))
			}
		}

		c.as = c.user("ua@example.com", "UA", "user-admin")
		for _, path := range []string{"/admin/audit/export?format=csv", "/admin/audit/export?format=jsonl", "/admin/audit"} {
			if rec := c.download(path); rec.Code != http.StatusForbidden || rec.Header().Get("Content-Disposition") != "" {
				t.Errorf("%s without audit-events read: %d", path, rec.Code)
			}
		}
	})
}

func TestAuditExportManyPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		c.as = c.user("auditor@example.com", "Auditor", "auditor")
		want := make([]string, 250)
		for i := range 250 {
			id := fmt.Sprintf("ev-%03d", i)
			want[249-i] = id
			e := audit.Event{Time: at0.Add(time.Duration(i) * time.Second), Actor: audit.Ref{Type: "service", ID: "bot"}, Action: "user.update",
				Target: audit.Ref{Type: "user", ID: id}}
			if err := c.audit.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		rec := c.download("/admin/audit/export?format=csv&actor=service:bot")
		wantAttachment(t, rec, "text/csv; charset=utf-8", ".csv")
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil || len(rows) != 251 {
			t.Fatalf("%d rows (%v), want a header and 250 events", len(rows), err)
		}
		for i, row := range rows[1:] {
			if row[6] != want[i] {
				t.Fatalf("row %d is %s, want %s: not every event once, newest first", i+1, row[6], want[i])
			}
		}
	})
}

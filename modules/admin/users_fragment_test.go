package admin

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestUsersSearchFragment: the users list answers htmx's requests with the
// results region alone and everything else with the whole page, on both
// databases.
func TestUsersSearchFragment(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		c.as = c.user("root@example.com", "Root", "admin")
		c.user("nadia@example.com", "Nadia <Ops>")
		c.user("nathan@example.com", "Nathan")
		c.user("olga@example.com", "Olga")

		get := func(path string, header ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			rec := httptest.NewRecorder()
			c.e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s %v: %d\n%s", path, header, rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Header().Get("Vary"), "HX-Request") {
				t.Errorf("GET %s: Vary %q lacks HX-Request", path, rec.Header().Get("Vary"))
			}
			return rec
		}

		t.Run("htmx gets only the results and the count", func(t *testing.T) {
			body := get("/admin/users?q=na&role=&status=", "HX-Request", "true").Body.String()
			for _, want := range []string{"nadia@example.com", "nathan@example.com", "Nadia &lt;Ops&gt;",
				`<div class="table-wrap"`, `<p id="user-count" hx-swap-oob="innerHTML">2 users match.</p>`} {
				if !strings.Contains(body, want) {
					t.Errorf("fragment lacks %q:\n%s", want, body)
				}
			}
			for _, no := range []string{"olga@", "root@", "<html", "<nav", "Search users", "<form"} {
				if strings.Contains(body, no) {
					t.Errorf("fragment has %q:\n%s", no, body)
				}
			}
		})
		t.Run("the same URL without htmx is the whole page", func(t *testing.T) {
			for _, h := range [][]string{nil, {"HX-Request", "true", "HX-History-Restore-Request", "true"}} {
				body := get("/admin/users?q=na", h...).Body.String()
				for _, want := range []string{"<!doctype html>", `<label for="q">Search users</label>`, `value="na"`,
					`<p id="user-count" class="muted" role="status">2 users match.</p>`, `<div id="user-results">`,
					`hx-trigger="input changed delay:250ms, submit"`, `hx-push-url="true"`, `<script src="/static/htmx.min.js?v=`,
					`<meta name="htmx-config" content='{"includeIndicatorStyles":false,`, `<button type="submit">Search</button>`} {
					if !strings.Contains(body, want) {
						t.Errorf("page %v lacks %q", h, want)
					}
				}
				if strings.Contains(body, "olga@") || strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
					t.Errorf("page %v lists olga or has inline style or script", h)
				}
			}
		})
		t.Run("a filter narrows the fragment; nothing matching says so", func(t *testing.T) {
			body := get("/admin/users?q=zz", "HX-Request", "true").Body.String()
			if !strings.Contains(body, `hx-swap-oob="innerHTML">No users match.</p>`) || strings.Contains(body, "@example.com") {
				t.Errorf("an empty search:\n%s", body)
			}
			body = get("/admin/users?role=admin", "HX-Request", "true").Body.String()
			if !strings.Contains(body, "root@example.com") || strings.Contains(body, "nadia@") || !strings.Contains(body, "1 user matches.") {
				t.Errorf("role filter admin:\n%s", body)
			}
		})
		t.Run("sort by created, email or name", func(t *testing.T) {
			order := func(sort string) []int {
				body := get("/admin/users?sort="+sort, "HX-Request", "true").Body.String()
				var at []int
				for _, e := range []string{"root@", "nadia@", "nathan@", "olga@"} {
					at = append(at, strings.Index(body, e))
				}
				return at
			}
			if at := order("created"); !(at[0] < at[1] && at[1] < at[2] && at[2] < at[3]) {
				t.Errorf("by created (root first): positions %v", at)
			}
			if at := order("email"); !(at[1] < at[2] && at[2] < at[3] && at[3] < at[0]) {
				t.Errorf("by email (root last): positions %v", at)
			}
			if at := order("nonsense"); !(at[0] < at[1]) {
				t.Errorf("an unknown order is not the default: positions %v", at)
			}
			body := get("/admin/users?sort=name").Body.String()
			for _, want := range []string{`<option value="name" selected>Name</option>`, `<th scope="col" aria-sort="ascending">Name</th>`} {
				if !strings.Contains(body, want) {
					t.Errorf("sorted by name, the page lacks %q", want)
				}
			}
		})
		t.Run("the next page link swaps the results too", func(t *testing.T) {
			for i := range 51 {
				c.user(fmt.Sprintf("page%02d@example.com", i), "Page")
			}
			body := get("/admin/users?q=page", "HX-Request", "true").Body.String()
			if !strings.Contains(body, "Showing 50 matching users; more on the next page.") ||
				!strings.Contains(body, `hx-target="#user-results"`) || !strings.Contains(body, `rel="next" hx-get="/admin/users?page_token=`) {
				t.Errorf("first page of 51:\n%s", body)
			}
			// The order carries over to the next page.
			body = get("/admin/users?q=page&sort=name", "HX-Request", "true").Body.String()
			i := strings.Index(body, `hx-get="`)
			if i < 0 || !strings.Contains(body[i:], "sort=name") {
				t.Fatalf("the next link of a name-ordered page lacks sort=name:\n%s", body[max(0, i):])
			}
			next := html.UnescapeString(body[i+8 : i+8+strings.Index(body[i+8:], `"`)])
			if body = get(next, "HX-Request", "true").Body.String(); !strings.Contains(body, "1 user matches.") {
				t.Errorf("the second name-ordered page (%s):\n%s", next, body)
			}
		})
	})
}

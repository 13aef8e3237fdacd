package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/mail"
)

func TestOverviewPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	c.user("b@example.com", "B")
	ctx := context.Background()
	now := time.Now().UTC()
	for i, a := range []string{"login.success", "login.success", "login.failure", "login.success"} {
		at := now.Add(-time.Duration(i) * time.Minute)
		if i == 3 {
			at = now.AddDate(0, 0, -3) // in the 30 days, not the 24 hours
		}
		if err := c.audit.Record(ctx, audit.Event{Time: at, Action: a, Actor: audit.Ref{Type: "user", ID: c.as}}); err != nil {
			t.Fatal(err)
		}
	}

	// Two delivered (to the log: no SMTP server), one still pending.
	for i := range 3 {
		if i == 2 {
			if n, err := c.mail.DeliverDue(ctx); err != nil || n != 2 {
				t.Fatalf("DeliverDue = %d, %v", n, err)
			}
		}
		if err := c.mail.Enqueue(ctx, mail.Message{To: "b@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
			t.Fatal(err)
		}
	}

	r := c.get("/admin/overview")
	r.want(t, http.StatusOK,
		`<h2 id="mail-title">Mail</h2>`, `<span class="count-n">1</span> <span class="count-label">Pending</span>`,
		`<span class="count-n">2</span> <span class="count-label">Sent</span>`,
		`<span class="count-n">0</span> <span class="count-label">Permanently failed</span>`,
		`text-anchor="end">hours, UTC</text>`, `text-anchor="end">days, UTC</text>`, `<th scope="col">From (UTC)</th>`, `<a href="/admin/overview" aria-current="page">Overview</a>`,
		`<span class="count-n">2</span> <span class="count-label"><a href="/admin/users">Users</a>`,
		`<span class="count-n">3</span> <span class="count-label">Active sessions`,
		`<span class="count-n">0</span> <span class="count-label"><a href="/admin/clients">Clients</a>`,
		`<span class="count-n">0</span> <span class="count-label"><a href="/admin/api-keys">API keys</a>`,
		"Sign-ins per hour, last 24 hours (UTC): 2 sign-ins and 1 failed sign-ins.",
		"Sign-ins per day, last 30 days (UTC): 3 sign-ins and 1 failed sign-ins.",
		`<svg class="chart"`, `class="bar-ok"`, `class="bar-fail"`)
	if strings.Contains(r.body, "style=") || strings.Contains(r.body, "<script") {
		t.Error("the overview has inline style or script")
	}
	// /admin stays the users list (CONTRACT), linking to the overview.
	c.get("/admin").want(t, http.StatusOK, "Search users", `href="/admin/overview"`)

	// A user-admin sees users and sessions, not clients, keys or charts.
	c.as = c.user("ua@example.com", "UA", "user-admin")
	r = c.get("/admin/overview")
	r.want(t, http.StatusOK, "Active sessions")
	for _, no := range []string{">Clients<", "API keys", "<svg", "Pending"} {
		if strings.Contains(r.body, no) {
			t.Errorf("a user-admin's overview shows %q", no)
		}
	}
	c.as = c.user("plain@example.com", "Plain")
	c.get("/admin/overview").want(t, http.StatusForbidden)
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 6: 10, 11: 20, 250: 500, 501: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

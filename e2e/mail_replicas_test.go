package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// mailMetrics reads the gatehouse_mail_* series from a replica's /metrics.
func mailMetrics(t *testing.T, srv *server) map[string]float64 {
	t.Helper()
	res := get(t, srv.URL+"/metrics")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.Status)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(string(res.Body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "gatehouse_mail_") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		got[name] = v
	}
	for _, name := range []string{"gatehouse_mail_sent_total", "gatehouse_mail_failed_total",
		"gatehouse_mail_retries_total", "gatehouse_mail_pending"} {
		if _, ok := got[name]; !ok {
			t.Fatalf("/metrics of %s lacks %s", srv.URL, name)
		}
	}
	return got
}

// sumMetric adds one series over the replicas.
func sumMetric(t *testing.T, name string, servers ...*server) float64 {
	t.Helper()
	var n float64
	for _, s := range servers {
		n += mailMetrics(t, s)[name]
	}
	return n
}

// TestMailReplicasServerDown: two replicas on one PostgreSQL database, the
// mail server down. Invitations (API) and password resets (the "Forgot
// password?" page) through both replicas are answered at once with
// success — no request waits on mail — and the reset limits hold over both
// replicas together. The workers' attempts fail and are
// retried (visible in /metrics). When the mail server comes back on the
// same address every message arrives, each exactly once, and nothing is
// left pending.
func TestMailReplicasServerDown(t *testing.T) {
	t.Parallel()
	smtp := testutil.NewSMTPServer(t)
	smtp.Stop() // connections to its address are refused from now on
	dbURL := newDatabaseURL(t, postgresDB)
	key := newMasterKey()
	env := []string{"GATEHOUSE_SMTP_URL=" + smtp.URL(), "GATEHOUSE_SMTP_FROM=Gatehouse <id@example.com>"}
	a := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key, Env: env})
	b := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key, Env: env})
	replicas := []*server{a, b}

	// The admin's API key is itself mailed about (a security notice).
	adminKey := a.AdminKey(t)
	want := map[string]int{a.AdminEmail: 1}
	for i := range 6 {
		email := "invitee" + strconv.Itoa(i) + "@example.com"
		api(replicas[i%2], adminKey).do(t, http.MethodPost, "/invitations",
			map[string]any{"email": email, "name": "Invitee " + strconv.Itoa(i)}).expect(t, http.StatusCreated)
		want[email] = 1
	}
	for i := range 4 {
		email := "resetter" + strconv.Itoa(i) + "@example.com"
		createUser(t, a, email, "the passphrase of resetter "+strconv.Itoa(i))
		ua := newAgent(t, replicas[i%2])
		p := ua.submit(ua.get("/password/forgot"), "/password/forgot", url.Values{"email": {email}})
		if p.Status != http.StatusOK {
			t.Fatalf("Forgot password on %s: %d\n%s", replicas[i%2].URL, p.Status, p.Body)
		}
		want[email] = 1
	}
	// Resetter0 asks 4 more times, alternating replicas: the limits (3 per
	// address in 15 minutes, 3 links per account an hour) are shared, so
	// 2 more links go out in all, and the refused request gets the same
	// page. An address with no account gets that page too, and no message.
	norm := func(p webPage) string { return csrfField.ReplaceAllString(p.Body, "") }
	var first webPage
	for i := range 4 {
		ua := newAgent(t, replicas[i%2])
		p := ua.submit(ua.get("/password/forgot"), "/password/forgot", url.Values{"email": {"resetter0@example.com"}})
		if i == 0 {
			first = p
		}
		if p.Status != http.StatusOK || norm(p) != norm(first) {
			t.Fatalf("reset request %d for resetter0: %d\n%s", i+2, p.Status, p.Body)
		}
	}
	want["resetter0@example.com"] = 3
	ua := newAgent(t, b)
	unknown := ua.submit(ua.get("/password/forgot"), "/password/forgot", url.Values{"email": {"nobody@example.com"}})
	if unknown.Status != http.StatusOK ||
		norm(unknown) != strings.ReplaceAll(norm(first), "resetter0@example.com", "nobody@example.com") {
		t.Fatalf("Forgot password for an unknown address: %d\n%s", unknown.Status, unknown.Body)
	}
	total := 0
	for _, n := range want {
		total += n
	}

	// The workers tried, failed, and keep every message.
	waitUntil(t, func() bool { return sumMetric(t, "gatehouse_mail_retries_total", a, b) >= 1 })
	if got := mailMetrics(t, a)["gatehouse_mail_pending"]; got != float64(total) {
		t.Fatalf("pending while the mail server is down: %v, want %d", got, total)
	}
	if n := len(smtp.Mails()); n != 0 {
		t.Fatalf("%d messages arrived while the server was down", n)
	}

	smtp.Start()
	back := time.Now()
	// Retries are at most 30 s apart (plus the 1 s poll).
	smtp.WaitFor(total, 45*time.Second)
	t.Logf("%d messages delivered %s after the mail server came back", total, time.Since(back).Round(100*time.Millisecond))
	// Anything sent twice would follow within a poll or two.
	time.Sleep(3 * time.Second)
	got := map[string]int{}
	for _, m := range smtp.Mails() {
		got[m.To]++
		if m.To != a.AdminEmail && !strings.Contains(m.Body, "token=") {
			t.Errorf("the message to %s has no link:\n%s", m.To, m.Body)
		}
	}
	for to, n := range want {
		if got[to] != n {
			t.Errorf("%s got %d messages, want %d", to, got[to], n)
		}
	}
	for to, n := range got {
		if want[to] == 0 {
			t.Errorf("unexpected %d message(s) to %s", n, to)
		}
	}
	if sent := sumMetric(t, "gatehouse_mail_sent_total", a, b); sent != float64(total) {
		t.Errorf("sent over both replicas: %v, want %d", sent, total)
	}
	if failed := sumMetric(t, "gatehouse_mail_failed_total", a, b); failed != 0 {
		t.Errorf("given up: %v", failed)
	}
	if pending := mailMetrics(t, b)["gatehouse_mail_pending"]; pending != 0 {
		t.Errorf("pending after delivery: %v", pending)
	}
}

package mail

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// scrape reads the outbox metrics from a real /metrics endpoint.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", resp.StatusCode, body)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
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
	return got
}

// TestMailMetrics: sent, failed and retried messages and the backlog show
// on a Prometheus endpoint and move with what the worker does.
func TestMailMetrics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		srv.Reject = "bounce@example.test"
		clock := testutil.NewClock(time.Now())
		s := newTestService(t, db, srv, Options{Now: clock.Now})
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.Collector())
		web := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		defer web.Close()
		ctx := context.Background()

		want := func(step string, sent, failed, retries, pending float64) {
			t.Helper()
			got := scrape(t, web.URL)
			exp := map[string]float64{"gatehouse_mail_sent_total": sent, "gatehouse_mail_failed_total": failed,
				"gatehouse_mail_retries_total": retries, "gatehouse_mail_pending": pending}
			for k, v := range exp {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s: %s = %v (present %v), want %v", step, k, g, ok, v)
				}
			}
		}
		want("empty", 0, 0, 0, 0)
		enqueue(t, s, "ok@example.test")
		enqueue(t, s, "bounce@example.test")
		want("queued", 0, 0, 0, 2)
		if n, _ := s.DeliverDue(ctx); n != 2 {
			t.Fatalf("claimed %d", n)
		}
		want("delivered and bounced", 1, 1, 0, 0)
		srv.Stop()
		enqueue(t, s, "later@example.test")
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		want("server down", 1, 1, 1, 1)
		srv.Start()
		clock.Advance(time.Minute)
		if n, _ := s.DeliverDue(ctx); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		want("server back", 2, 1, 1, 0)
	})
}

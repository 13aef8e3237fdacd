package httpserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
)

// At the default level (info) a successful request writes no log line;
// every 4xx and 5xx does, and a request whose client went away is a 499 at
// info, never an ERROR 500.
func TestRequestLogLevels(t *testing.T) {
	logs := &lockedBuffer{}
	reg := prometheus.NewRegistry()
	s := httpserver.New(httpserver.Options{Logger: logging.New("text", logs, 0), Version: "test", Registerer: reg})
	s.Routes.Public.GET("/ok", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	s.Routes.Public.GET("/missing", func(c echo.Context) error { return echo.ErrNotFound })
	s.Routes.Public.GET("/fail", func(c echo.Context) error { return fmt.Errorf("store: %w", errSecret) })
	s.Routes.Public.GET("/slow", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return fmt.Errorf("query: %w", c.Request().Context().Err())
	})
	s.Routes.Public.GET("/wrapped", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(fmt.Errorf("driver: interrupted"))
	})
	serve := func(path string, ctx context.Context) int {
		w := httptest.NewRecorder()
		s.Echo.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
		return w.Code
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		path   string
		ctx    context.Context
		status int
		line   string // "" for no request line
	}{
		{"/ok", context.Background(), 200, ""},
		{"/missing", context.Background(), 404, "level=INFO msg=\"http request\" method=GET route=/missing status=404"},
		{"/fail", context.Background(), 500, "level=ERROR msg=\"http request\" method=GET route=/fail status=500"},
		{"/slow", gone, 499, "level=INFO msg=\"http request\" method=GET route=/slow status=499"},
		{"/wrapped", gone, 499, "level=INFO msg=\"http request\" method=GET route=/wrapped status=499"},
	} {
		before := len(logs.String())
		if got := serve(c.path, c.ctx); got != c.status {
			t.Errorf("%s: status %d, want %d", c.path, got, c.status)
		}
		out := logs.String()[before:]
		if c.line == "" && out != "" {
			t.Errorf("%s: logged at info level:\n%s", c.path, out)
		}
		if c.line != "" && !strings.Contains(out, c.line) {
			t.Errorf("%s: want a line with %q, got:\n%s", c.path, c.line, out)
		}
		if c.status == 499 && strings.Contains(out, "level=ERROR") {
			t.Errorf("%s: a cancelled request logged an error:\n%s", c.path, out)
		}
	}
	// Metrics count every request, logged or not; a cancelled one as 499.
	for _, c := range []struct {
		route, status string
	}{{"/ok", "200"}, {"/slow", "499"}, {"/fail", "500"}} {
		n := counter(t, reg, c.route, c.status)
		if n != 1 {
			t.Errorf("%s %s counted %v times, want 1", c.route, c.status, n)
		}
	}
}

var errSecret = fmt.Errorf("secret-detail")

// counter finds gatehouse_http_requests_total{method="GET",route,status}.
func counter(t *testing.T, reg *prometheus.Registry, route, status string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gatehouse_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["status"] == status {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Request ids are version 4 UUIDs and differ from request to request.
func TestRequestIDsAreUUIDv4(t *testing.T) {
	s := httpserver.New(httpserver.Options{Logger: logging.Discard(), Version: "test"})
	s.Routes.Public.GET("/ok", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	seen := map[string]bool{}
	for range 100 {
		w := httptest.NewRecorder()
		s.Echo.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ok", nil))
		id := w.Header().Get("X-Request-Id")
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("request id %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// helloBody is what scripts/hello answers: the yardstick of the load run.
var helloBody = []byte(`{"status":"ok"}`)

func helloHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(helloBody)
}

// BenchmarkRequestPath serves requests through the whole echo server that
// serve listens with (every middleware, every module mounted, the JSON
// request log at the default level writing to io.Discard, metrics) and
// reports CPU time per request ("cpu-ns/op"; the machine is shared, wall
// time says little). "hello/net-http" is scripts/hello's handler on a bare
// ServeMux; "hello/echo" is the same handler behind Gatehouse's middleware
// chain, so echo minus net-http is what the chain costs per request, and the
// other cases minus hello/echo are their handlers. The connection handling
// a real server adds on top (the same for all) is not measured here.
func BenchmarkRequestPath(b *testing.B) {
	cfg := config.Config{DatabaseURL: "sqlite:" + filepath.Join(b.TempDir(), "g.db"), Issuer: "http://localhost:8080"}.WithDefaults()
	level, err := cfg.SlogLevel()
	if err != nil {
		b.Fatal(err)
	}
	logger := logging.New("json", io.Discard, level)
	ctx := context.Background()
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer a.close()
	for _, task := range a.startup {
		if err := task(ctx); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := newServer(cfg, a, logger)
	if err != nil {
		b.Fatal(err)
	}
	srv.Routes.Public.GET("/bench/hello", echo.WrapHandler(http.HandlerFunc(helloHandler)))
	bare := http.NewServeMux()
	bare.HandleFunc("/", helloHandler)

	client, secret, err := a.oidc.Clients().Create(principal.With(ctx, principal.SystemPrincipal),
		clients.NewClient{Name: "bench", GrantTypes: []string{clients.GrantClientCredentials}})
	if err != nil {
		b.Fatal(err)
	}
	tokenForm := url.Values{"grant_type": {"client_credentials"}}.Encode()

	get := func(path string) func() *http.Request {
		return func() *http.Request { return httptest.NewRequest(http.MethodGet, "http://localhost:8080"+path, nil) }
	}
	for _, c := range []struct {
		name string
		h    http.Handler
		req  func() *http.Request
	}{
		{"hello/net-http", bare, get("/")},
		{"hello/echo", srv.Echo, get("/bench/hello")},
		{"discovery", srv.Echo, get("/.well-known/openid-configuration")},
		{"jwks", srv.Echo, get("/keys")},
		{"healthz", srv.Echo, get("/healthz")},
		{"token-client-credentials", srv.Echo, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "http://localhost:8080/oauth/token", strings.NewReader(tokenForm))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth(client.ID, secret)
			return r
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := testutil.StartCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					r := c.req()
					c.h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Errorf("%s: %d %s", r.URL.Path, w.Code, w.Body)
						return
					}
				}
			})
			b.StopTimer()
			cpu.Report(b)
		})
	}
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/web"
)

type serveCmd struct{}

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 20 * time.Second

func (serveCmd) Run(e *env) error {
	level, err := e.cfg.SlogLevel()
	if err != nil {
		return err
	}
	logger := logging.New(e.cfg.LogFormat, e.stderr, level)
	// zitadel/oidc logs through the default logger; give it ours so every
	// line has one format.
	slog.SetDefault(logger)
	started := time.Now()
	a, err := newApp(e.ctx, e.cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	for _, task := range a.startup {
		if err := task(e.ctx); err != nil {
			return err
		}
	}

	srv, err := newServer(e.cfg, a, logger)
	if err != nil {
		return err
	}

	// Start-up work (key generation, the bootstrap admin's argon2id hash)
	// leaves garbage behind; hand it back so an idle server stays small.
	debug.FreeOSMemory()
	memLimit := setMemoryLimit(a.identity.HashMemoryBytes())

	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           srv.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("gatehouse ready",
		slog.String("version", Version),
		slog.String("addr", ln.Addr().String()),
		slog.String("issuer", e.cfg.Issuer),
		slog.String("database", string(a.db.Dialect)),
		slog.Duration("startup", time.Since(started)),
		slog.Int64("memory_limit_mib", memLimit>>20))

	g, ctx := errgroup.WithContext(e.ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	for _, task := range a.background {
		g.Go(func() error { return task(ctx) })
	}
	g.Go(func() error {
		<-ctx.Done()
		logger.Info("shutting down; finishing in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		return httpSrv.Shutdown(sctx)
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// memoryHeadroom is what the soft memory limit allows beyond twice the
// memory of the password hashes that may run at once: the heap at rest,
// the bounded caches (decisions ~4 MiB, verified tokens ~12 MiB,
// forward-auth answers ~10 MiB, API keys ~10 MiB, roles a few MiB), a large
// rule set's enforcers, requests. The limit must stay well above the live
// heap: measured, a limit of hashes + 64 MiB left a server whose caches
// were full (live heap ~150 MB during a sign-in burst) collecting without
// pause, at 6-8 sign-ins a second instead of ~50.
const memoryHeadroom = 192 << 20

// setMemoryLimit sets the Go runtime's soft memory limit to twice the
// argon2id memory of the hashes that may run at once plus memoryHeadroom,
// unless GOMEMLIMIT is set (then that one stands). It bounds the peak of a
// sign-in burst below where GOGC alone would let the heap double; the heap
// a burst freed is handed back to the OS after it (identity password.go).
// It returns the limit in force.
func setMemoryLimit(hashBytes int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	limit := 2*hashBytes + memoryHeadroom
	debug.SetMemoryLimit(limit)
	return limit
}

// newServer builds the HTTP server with every module mounted, the ops
// routes and a metrics registry of its own: what serve listens with (and
// what the request-path benchmark measures).
func newServer(cfg config.Config, a *app, logger *slog.Logger) (*httpserver.Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(a.db.SQL(), "gatehouse"),
		a.mail.Collector(),
	)
	trustedProxies, err := cfg.TrustedProxyRanges()
	if err != nil {
		return nil, err
	}
	srv := httpserver.New(httpserver.Options{
		Logger:         logger,
		Version:        Version,
		SecureCookies:  cfg.IssuerIsHTTPS(),
		Registerer:     reg,
		Bearer:         a.bearer,
		Session:        a.session,
		ErrorPage:      a.web,
		TrustedProxies: trustedProxies,
		Reauth:         a.reauth,
		ReauthMaxAge:   cfg.ReauthMaxAge,
	})
	mountOps(srv.Routes.Public, a, reg)
	for _, m := range a.modules {
		m.Mount(srv.Routes)
	}
	return srv, nil
}

// mountOps adds the health, readiness, metrics and static routes.
func mountOps(g *echo.Group, a *app, reg *prometheus.Registry) {
	g.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	g.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := a.db.SQL().PingContext(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database does not answer"})
		}
		if err := migrations.CheckCurrent(ctx, a.db); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	g.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	g.GET("/static/*", echo.WrapHandler(web.StaticHandler()))
}

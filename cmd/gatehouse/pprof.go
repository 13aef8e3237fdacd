//go:build pprof

// A binary built with -tags pprof (`go build -tags pprof ./cmd/gatehouse`)
// serves net/http/pprof on GATEHOUSE_PPROF_ADDR when it is set (say
// 127.0.0.1:6060), for profiling a running server under load
// (scripts/load.sh PROFILE=dir does), for example
//
//	go tool pprof -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
//
// Release builds (make build, the Dockerfile) do not have it.
package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"time"
)

func init() {
	addr := os.Getenv("GATEHOUSE_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
		slog.Warn("pprof build: profiling endpoints are served", slog.String("addr", addr), slog.Any("error", srv.ListenAndServe()))
	}()
}

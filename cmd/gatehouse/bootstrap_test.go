package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
)

func TestEnsureAdminPrintsSetupLink(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{DatabaseURL: "sqlite:" + filepath.Join(dir, "g.db"), Issuer: "http://localhost:9999"}.WithDefaults()
	var logs bytes.Buffer
	a, err := newApp(context.Background(), cfg, logging.New("text", &logs, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := a.ensureAdmin(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`level=WARN .*url="?http://localhost:9999/setup\?token=([A-Za-z0-9_-]{43})`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no setup link in the log:\n%s", logs.String())
	}
	if err := a.identity.CheckSetupToken(context.Background(), m[1]); err != nil {
		t.Fatalf("logged token is not valid: %v", err)
	}
}

func TestEnsureAdminBootstrap(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{
		DatabaseURL:            "sqlite:" + filepath.Join(dir, "g.db"),
		BootstrapAdminEmail:    "root@example.com",
		BootstrapAdminPassword: "correct horse battery staple",
	}.WithDefaults()
	var logs bytes.Buffer
	a, err := newApp(context.Background(), cfg, logging.New("text", &logs, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for i := 0; i < 2; i++ { // idempotent across restarts
		if err := a.ensureAdmin(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	u, err := a.identity.VerifyPassword(context.Background(), "root@example.com", "correct horse battery staple")
	if err != nil || !u.HasRole("admin") {
		t.Fatalf("bootstrap admin: %+v %v", u, err)
	}
	if strings.Contains(logs.String(), "setup?token=") {
		t.Fatal("setup link printed although an admin exists")
	}
	if n := strings.Count(logs.String(), "bootstrap admin ready"); n != 1 {
		t.Fatalf("admin created %d times", n)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

func TestAPIKeysCreate(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "g.db")
	lookup := func(k string) (string, bool) {
		if k == "GATEHOUSE_DATABASE_URL" {
			return dbURL, true
		}
		return "", false
	}
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, lookup, strings.NewReader(""), &out, &errOut)
		return out.String(), err
	}

	if _, err := cli("users", "create", "--email", "ops@example.com", "--name", "Ops"); err != nil {
		t.Fatalf("create user: %v", err)
	}
	out, err := cli("apikeys", "create", "--user", "ops@example.com", "--name", "deploy", "--scope", "users:read", "--scope", "api-keys:*", "--expires-in", "720h")
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	secret := strings.TrimSuffix(out, "\n")
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(secret, "gh_") || len(secret) != apikeys.KeyLen {
		t.Fatalf("stdout %q, want the key alone", out)
	}

	// The printed key authenticates against the same database, as a server
	// (a fresh process) would verify it.
	a, err := newApp(context.Background(), config.Config{DatabaseURL: dbURL}.WithDefaults(), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	p, err := a.apikeys.AuthenticateBearer(context.Background(), secret)
	if err != nil {
		t.Fatalf("authenticate printed key: %v", err)
	}
	u, _ := a.identity.UserByEmail(context.Background(), "ops@example.com")
	if p.ID != u.ID || p.Via != principal.ViaAPIKey || strings.Join(p.Scopes, " ") != "api-keys:* users:read" {
		t.Fatalf("principal %+v", p)
	}
	k, err := a.apikeys.Get(context.Background(), p.CredentialID)
	if err != nil || k.Name != "deploy" || k.ExpiresAt == nil || time.Until(*k.ExpiresAt) < 719*time.Hour || k.CreatedBy != "gatehouse" {
		t.Fatalf("key %+v, %v", k, err)
	}
	var n int64
	a.db.Gorm.Table("audit_events").Where("action = ? AND actor_id = ?", "apikey.create", "gatehouse").Count(&n)
	if n != 1 {
		t.Fatalf("apikey.create events by the CLI = %d", n)
	}

	// Without --scope the key carries the owner's rights (nil scopes).
	out, err = cli("apikeys", "create", "--user", "ops@example.com", "--name", "full")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.apikeys.AuthenticateBearer(context.Background(), strings.TrimSpace(out)); err != nil || p.Scopes != nil {
		t.Fatalf("unscoped key: %+v, %v", p, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"apikeys", "create", "--user", "nobody@example.com", "--name", "x"}, "no user with email"},
		{[]string{"apikeys", "create", "--user", "ops@example.com", "--name", "x", "--scope", "users:fly"}, "--scope"},
		{[]string{"apikeys", "create", "--user", "ops@example.com", "--name", " "}, "--name"},
		{[]string{"apikeys", "create", "--user", "ops@example.com", "--name", "x", "--expires-in", "-1h"}, "--expires-in"},
		{[]string{"apikeys", "create", "--user", "ops@example.com", "--name", "x", "--expires-in", "soon"}, "expires-in"},
		{[]string{"apikeys", "create", "--name", "x"}, "--user"},
	} {
		out, err := cli(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || out != "" {
			t.Fatalf("%v: out %q, err %v; want a one-line error mentioning %q", tc.args, out, err, tc.want)
		}
	}
	var keys int64
	a.db.Gorm.Table("apikeys_keys").Count(&keys)
	if keys != 2 {
		t.Fatalf("%d keys, want 2 (failed commands must create none)", keys)
	}
	// A typo in the last character (one that really differs) is refused.
	typo := secret[:len(secret)-1] + "x"
	if typo == secret {
		typo = secret[:len(secret)-1] + "y"
	}
	if _, err := a.apikeys.AuthenticateBearer(context.Background(), typo); !errors.Is(err, httpserver.ErrUnauthenticated) {
		t.Fatalf("typo: %v", err)
	}
}

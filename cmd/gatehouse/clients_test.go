package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
)

func TestClientsCreate(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	lookup := func(k string) (string, bool) {
		if k == "GATEHOUSE_DATABASE_URL" {
			return dbURL, true
		}
		return "", false
	}
	cli := func(args ...string) (map[string]string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, lookup, strings.NewReader(""), &out, &errOut)
		var m map[string]string
		if err == nil {
			if jerr := json.Unmarshal(out.Bytes(), &m); jerr != nil {
				t.Fatalf("stdout %q is not JSON: %v", out.String(), jerr)
			}
		}
		return m, out.String(), err
	}

	conf, _, err := cli("clients", "create", "--name", "Web", "--redirect-uri", "https://app.test/cb", "--scope", "openid", "--scope", "roles")
	if err != nil {
		t.Fatalf("confidential: %v", err)
	}
	if conf["client_id"] == "" || len(conf["client_secret"]) < 43 {
		t.Fatalf("output %v", conf)
	}
	pub, raw, err := cli("clients", "create", "--name", "CLI", "--public", "--redirect-uri", "http://127.0.0.1/cb", "--first-party")
	if err != nil {
		t.Fatalf("public: %v", err)
	}
	if _, ok := pub["client_secret"]; ok || pub["client_id"] == "" {
		t.Fatalf("public output %q", raw)
	}
	machine, _, err := cli("clients", "create", "--name", "Svc", "--grant-type", "client_credentials")
	if err != nil || machine["client_secret"] == "" {
		t.Fatalf("machine: %v %v", machine, err)
	}

	perms, _, err := cli("clients", "create", "--name", "Offline", "--redirect-uri", "https://app.test/cb", "--permissions-claim")
	if err != nil || perms["client_id"] == "" {
		t.Fatalf("--permissions-claim: %v %v", perms, err)
	}

	eddsa, _, err := cli("clients", "create", "--name", "Ed", "--grant-type", "client_credentials", "--access-token-alg", "EdDSA")
	if err != nil || eddsa["client_id"] == "" {
		t.Fatalf("--access-token-alg EdDSA: %v %v", eddsa, err)
	}
	_, _, err = cli("clients", "create", "--name", "Bad", "--grant-type", "client_credentials", "--access-token-alg", "HS256")
	if err == nil || !strings.Contains(err.Error(), "--access-token-alg") {
		t.Errorf("bad access token alg: %v", err)
	}

	_, _, err = cli("clients", "create", "--name", "NoRedirect")
	if err == nil || !strings.Contains(err.Error(), "--redirect-uri") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing redirect URI: %v", err)
	}
	_, _, err = cli("clients", "create", "--name", "Bad", "--grant-type", "password")
	if err == nil || !strings.Contains(err.Error(), "--grant-type") {
		t.Errorf("bad grant type: %v", err)
	}

	db, err := database.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row struct {
		GrantTypes string
		FirstParty bool
		Public     bool
	}
	if err := db.Gorm.Table("oidc_clients").Where("id = ?", conf["client_id"]).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.GrantTypes != `["authorization_code","refresh_token"]` || row.Public || row.FirstParty {
		t.Errorf("stored %+v", row)
	}
	for id, want := range map[string]bool{conf["client_id"]: false, perms["client_id"]: true} {
		var got bool
		if err := db.Gorm.Table("oidc_clients").Where("id = ?", id).Pluck("permissions_claim", &got).Error; err != nil || got != want {
			t.Errorf("client %s permissions_claim = %v (%v), want %v", id, got, err, want)
		}
	}
	for id, want := range map[string]string{conf["client_id"]: "ES256", eddsa["client_id"]: "EdDSA"} {
		var got string
		if err := db.Gorm.Table("oidc_clients").Where("id = ?", id).Pluck("access_token_alg", &got).Error; err != nil || got != want {
			t.Errorf("client %s access_token_alg = %q (%v), want %s", id, got, err, want)
		}
	}
	var hash string
	db.Gorm.Table("oidc_client_secrets").Where("client_id = ?", conf["client_id"]).Pluck("secret_hash", &hash)
	if hash == "" || hash == conf["client_secret"] {
		t.Errorf("secret stored as %q", hash)
	}
}

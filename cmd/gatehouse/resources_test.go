package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestResourcesCreate(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
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
	out, err := cli("resources", "create", "--identifier", "https://api.example.com", "--name", "Invoices",
		"--scope", "invoices:read", "--scope", "invoices:write")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		ID, Identifier, Name string
		Scopes               []string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Identifier != "https://api.example.com" || r.ID == "" || len(r.Scopes) != 2 {
		t.Fatalf("output %q (%v)", out, err)
	}
	if _, err := cli("resources", "create", "--identifier", "api.example.com", "--name", "X"); err == nil || !strings.HasPrefix(err.Error(), "--identifier:") {
		t.Errorf("relative identifier: %v, want a --identifier error", err)
	}
	if _, err := cli("resources", "create", "--identifier", "https://api.example.com", "--name", "Again"); err == nil {
		t.Errorf("a duplicate identifier was accepted")
	}
}

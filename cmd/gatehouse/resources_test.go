package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestResourcesCLI(t *testing.T) {
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
	if _, err := cli("resources", "create", "--identifier", "urn:example:billing", "--name", "Billing"); err != nil {
		t.Fatal(err)
	}
	out, err = cli("resources", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 2 ||
		!strings.Contains(lines[0], `"identifier":"https://api.example.com"`) || !strings.Contains(lines[1], `"identifier":"urn:example:billing"`) {
		t.Fatalf("resources list: %q, %v", out, err)
	}
	// By identifier, then by id.
	if _, err := cli("resources", "delete", "https://api.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("resources", "delete", "https://api.example.com"); err == nil || !strings.Contains(err.Error(), "no API") {
		t.Errorf("deleting twice: %v", err)
	}
	var billing struct{ ID string }
	out, _ = cli("resources", "list")
	if err := json.Unmarshal([]byte(out), &billing); err != nil || billing.ID == "" {
		t.Fatalf("resources list: %q, %v", out, err)
	}
	if _, err := cli("resources", "delete", billing.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("resources", "list"); err != nil || out != "" {
		t.Errorf("resources list after deleting all: %q, %v", out, err)
	}
}

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

func TestUsersCreate(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "g.db")
	lookup := func(k string) (string, bool) {
		if k == "GATEHOUSE_DATABASE_URL" {
			return dbURL, true
		}
		return "", false
	}
	cli := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, lookup, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}

	out, err := cli("correct horse battery staple\r\n", "users", "create", "--email", "Admin@Example.com", "--name", "Ada", "--role", "admin", "--role", "auditor", "--password-stdin")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := strings.TrimSpace(out)
	if len(id) != 36 || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q, want the id alone", out)
	}

	db, err := database.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row struct {
		Email, Name, PasswordHash string
	}
	if err := db.Gorm.Table("identity_users").Where("id = ?", id).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.Email != "Admin@Example.com" || row.Name != "Ada" || !strings.HasPrefix(row.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("row %+v", row)
	}
	var roles []string
	db.Gorm.Table("identity_user_roles").Where("user_id = ?", id).Order("role_name").Pluck("role_name", &roles)
	if strings.Join(roles, ",") != "admin,auditor" {
		t.Fatalf("roles %v", roles)
	}

	// Without --password-stdin: no password, stdin untouched.
	out, err = cli("", "users", "create", "--email", "nopw@example.com")
	if err != nil {
		t.Fatalf("create without password: %v", err)
	}
	var hash string
	db.Gorm.Table("identity_users").Where("id = ?", strings.TrimSpace(out)).Pluck("password_hash", &hash)
	if hash != "" {
		t.Fatalf("password set without --password-stdin: %q", hash)
	}

	for _, c := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"duplicate", "another good password\n", []string{"--email", "admin@example.com", "--password-stdin"}, "already exists"},
		{"unknown role", "another good password\n", []string{"--email", "r@example.com", "--role", "wizard", "--password-stdin"}, `unknown role "wizard"`},
		{"bad email", "another good password\n", []string{"--email", "not-an-email", "--password-stdin"}, "invalid email"},
		{"weak password", "password1\n", []string{"--email", "w@example.com", "--password-stdin"}, "invalid password"},
		{"short password", "short\n", []string{"--email", "s@example.com", "--password-stdin"}, "at least 8"},
		{"empty stdin", "", []string{"--email", "e@example.com", "--password-stdin"}, "no password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := cli(c.stdin, append([]string{"users", "create"}, c.args...)...)
			if err == nil {
				t.Fatalf("succeeded: %q", out)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line containing %q", msg, c.want)
			}
			if out != "" {
				t.Fatalf("stdout %q on failure", out)
			}
		})
	}
	var n int64
	db.Gorm.Table("identity_users").Count(&n)
	if n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
}

// TestUsersCreatePostgres runs the command against PostgreSQL too.
func TestUsersCreatePostgres(t *testing.T) {
	dbURL := testutil.NewPostgresSchemaURL(t)
	lookup := func(k string) (string, bool) {
		switch k {
		case "GATEHOUSE_DATABASE_URL":
			return dbURL, true
		case "GATEHOUSE_MASTER_KEY":
			return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true
		}
		return "", false
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--email", "pg@example.com", "--password-stdin"}, lookup,
		strings.NewReader("correct horse battery staple\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(out.String())) != 36 {
		t.Fatalf("stdout %q", out.String())
	}
}

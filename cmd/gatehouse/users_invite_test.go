package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

var inviteLink = regexp.MustCompile(`https?://\S+/password/reset\?token=\S+`)

// inviteCLI runs `gatehouse users invite` against a fresh SQLite file
// with env (and the database URL); it returns stdout, stderr and the URL.
func inviteCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr, dbURL string) {
	t.Helper()
	dbURL = "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	lookup := func(k string) (string, bool) {
		if k == "GATEHOUSE_DATABASE_URL" {
			return dbURL, true
		}
		v, ok := env[k]
		return v, ok
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"users", "invite"}, args...), lookup, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("users invite: %v; stderr %s", err, errOut.String())
	}
	return out.String(), errOut.String(), dbURL
}

// TestUsersInviteWithoutSMTP: stdout is the user's id alone; stderr says
// no mail server is configured and carries the link, which sets a password.
func TestUsersInviteWithoutSMTP(t *testing.T) {
	out, errOut, dbURL := inviteCLI(t, nil, "--email", "ivy@example.com", "--name", "Ivy")
	id := strings.TrimSpace(out)
	if len(id) != 36 || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q, want the id alone", out)
	}
	link := inviteLink.FindString(errOut)
	if link == "" || !strings.Contains(errOut, "no mail server") {
		t.Fatalf("stderr %q lacks the link", errOut)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), config.Config{DatabaseURL: dbURL}.WithDefaults(), logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	user, err := a.identity.SetPasswordWithLink(context.Background(), u.Query().Get("token"), "correct horse battery staple")
	if err != nil || user.ID != id {
		t.Fatalf("set a password with the printed link: %+v, %v", user, err)
	}
}

// TestUsersInviteWithSMTP: the invitation is mailed at once and its link
// is not printed.
func TestUsersInviteWithSMTP(t *testing.T) {
	srv := testutil.NewSMTPServer(t)
	out, errOut, _ := inviteCLI(t, map[string]string{"GATEHOUSE_SMTP_URL": srv.URL(), "GATEHOUSE_SMTP_FROM": "Gatehouse <id@example.com>"},
		"--email", "ivy@example.com")
	if len(strings.TrimSpace(out)) != 36 {
		t.Fatalf("stdout %q, want the id", out)
	}
	if inviteLink.MatchString(out + errOut) {
		t.Fatalf("the link is printed although it was mailed: %q %q", out, errOut)
	}
	mails := srv.WaitFor(1, 5*time.Second)
	if mails[0].To != "ivy@example.com" || !inviteLink.MatchString(mails[0].Body) {
		t.Fatalf("mail %+v", mails[0])
	}
}

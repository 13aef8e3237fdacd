package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// mailsTo returns the mails to addr whose body contains want.
func mailsTo(smtp *testutil.SMTPServer, addr, want string) []testutil.Mail {
	var out []testutil.Mail
	for _, m := range smtp.Mails() {
		if m.To == addr && strings.Contains(m.Body, want) {
			out = append(out, m)
		}
	}
	return out
}

// waitMail waits until a mail to addr containing want arrived, and
// returns it.
func waitMail(t *testing.T, smtp *testutil.SMTPServer, addr, want string) testutil.Mail {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := mailsTo(smtp, addr, want); len(m) > 0 {
			return m[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail to %s containing %q; got %+v", addr, want, smtp.Mails())
	return testutil.Mail{}
}

// TestNoticeAPIKeyAndLock: with the real binary and an SMTP server, a new
// API key (made with the CLI, or through the API) is mailed to its owner by
// name and prefix, never with the secret; ten failed sign-ins mail "account
// locked" once, and the attempts refused while it is locked mail nothing.
func TestNoticeAPIKeyAndLock(t *testing.T) {
	t.Parallel()
	srv, smtp := startMailServer(t, sqliteDB)
	password := "dave's passphrase " + randomHex(4)
	createUser(t, srv, "dave@example.com", password)

	key := createAPIKey(t, srv, "dave@example.com", "deploy")
	prefix := key[:len("gh_")+16]
	m := waitMail(t, smtp, "dave@example.com", `A new API key named "deploy", starting `+prefix+`, was created for your account.`)
	if !strings.HasPrefix(m.Subject, "Security notice") || strings.Contains(m.Raw, key[len(prefix)+1:len(prefix)+21]) {
		t.Fatalf("API key notice: %+v", m)
	}
	var created struct {
		Prefix string `json:"prefix"`
		Secret string `json:"secret"`
	}
	api(srv, key).do(t, http.MethodPost, "/api-keys", map[string]any{"name": "laptop"}).expect(t, http.StatusCreated).decode(t, &created)
	m = waitMail(t, smtp, "dave@example.com", `A new API key named "laptop", starting `+created.Prefix+`,`)
	if strings.Contains(m.Raw, created.Secret[len(created.Prefix)+1:len(created.Prefix)+21]) {
		t.Fatalf("the notice carries the secret:\n%s", m.Raw)
	}

	const locked = "After 10 failed sign-in attempts"
	ua := newUserAgent(t, srv)
	for i := 0; i < 10; i++ {
		if st := formSignIn(t, ua, srv, "dave@example.com", "wrong "+randomHex(4)); st != http.StatusUnauthorized {
			t.Fatalf("failure %d answered %d, want 401", i+1, st)
		}
	}
	for i := 0; i < 2; i++ {
		if st := formSignIn(t, ua, srv, "dave@example.com", password); st != http.StatusTooManyRequests {
			t.Fatalf("while locked: %d, want 429", st)
		}
	}
	waitMail(t, smtp, "dave@example.com", locked)
	time.Sleep(1500 * time.Millisecond) // the worker polls every second: a second notice would be here by now
	if n := len(mailsTo(smtp, "dave@example.com", locked)); n != 1 {
		t.Fatalf("%d account-locked notices, want 1: %+v", n, smtp.Mails())
	}
	for _, m := range smtp.Mails() {
		if m.To != "dave@example.com" && m.To != srv.AdminEmail {
			t.Errorf("mail to %s: %s", m.To, m.Subject)
		}
	}
}

// TestVerifiedEmailClaim: after an invitation link, or the link of a
// user's own email change, is used, the ID token and userinfo say
// email_verified: true; a user created with a password by the CLI, whose
// address nobody confirmed, is not verified.
func TestVerifiedEmailClaim(t *testing.T) {
	t.Parallel()
	srv, smtp := startMailServer(t, sqliteDB)
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	p := newProvider(t, srv)
	verified := func(login, password string) (idToken, userinfo any) {
		t.Helper()
		tok := signInForTokens(t, srv, p, client, login, password, oidc.ScopeOpenID, "email")
		raw, _ := tok.Extra("id_token").(string)
		idt, err := p.Verifier(&oidc.Config{ClientID: client.ID}).Verify(ctxTimeout(t), raw)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var ic, uc map[string]any
		if err := idt.Claims(&ic); err != nil {
			t.Fatal(err)
		}
		ui, err := p.UserInfo(ctxTimeout(t), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if err := ui.Claims(&uc); err != nil {
			t.Fatal(err)
		}
		if ic["email"] != login || uc["email"] != login {
			t.Fatalf("email claims %v %v, want %s", ic["email"], uc["email"], login)
		}
		return ic["email_verified"], uc["email_verified"]
	}

	plainID := createUser(t, srv, "plain@example.com", "plain's passphrase")
	// An unverified address: email_verified is false, never left out
	// (oauth2-proxy, for one, takes a missing claim for a verified address).
	if i, u := verified("plain@example.com", "plain's passphrase"); i != false || u != false {
		t.Fatalf("unverified user: ID token %v, userinfo %v, want false", i, u)
	}

	mustCLI(t, srv, "", "users", "invite", "--email", "ivy@example.com", "--name", "Ivy")
	link := linkIn(t, waitMail(t, smtp, "ivy@example.com", "/password/reset?token="))
	a := newAgent(t, srv)
	set := a.get(link)
	token := strings.SplitN(link, "token=", 2)[1]
	if done := a.submit(set, "/password/reset", url.Values{"token": {token}, "password": {"ivy picks a passphrase"}}); done.Path != "/login?notice=password-set" {
		t.Fatalf("after Set password: %s\n%s", done.Path, done.Body)
	}
	if i, u := verified("ivy@example.com", "ivy picks a passphrase"); i != true || u != true {
		t.Fatalf("after the invitation link: ID token email_verified %v, userinfo %v, want true", i, u)
	}

	// plain changes their own address; the link mailed to the new one
	// makes it theirs, verified.
	key := createAPIKey(t, srv, "plain@example.com", "own")
	api(srv, key).do(t, http.MethodPatch, "/users/"+plainID, map[string]any{
		"email": "plain@new.example.com", "current_password": "plain's passphrase"}).expect(t, http.StatusOK)
	link = linkIn(t, waitMail(t, smtp, "plain@new.example.com", "/email/verify?token="))
	confirm := a.get(link)
	if done := a.submit(confirm, "/email/verify", url.Values{"token": {strings.SplitN(link, "token=", 2)[1]}}); done.Status != http.StatusOK {
		t.Fatalf("Verify email: %d\n%s", done.Status, done.Body)
	}
	if i, u := verified("plain@new.example.com", "plain's passphrase"); i != true || u != true {
		t.Fatalf("after the own change's link: ID token email_verified %v, userinfo %v, want true", i, u)
	}
}

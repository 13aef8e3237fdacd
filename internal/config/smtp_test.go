package config

import (
	"strings"
	"testing"
)

func TestSMTPServer(t *testing.T) {
	ok := []struct {
		url  string
		want SMTP
	}{
		{"smtp://u:p%40ss@mail.example.com", SMTP{Host: "mail.example.com", Port: 587, Username: "u", Password: "p@ss"}},
		{"smtps://u:p@mail.example.com", SMTP{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", ImplicitTLS: true}},
		{"smtp://127.0.0.1:2525?insecure_skip_verify", SMTP{Host: "127.0.0.1", Port: 2525, InsecureSkipVerify: true}},
	}
	for _, tc := range ok {
		got, err := Config{SMTPURL: tc.url, SMTPFrom: "id@example.com"}.SMTPServer()
		tc.want.From = "id@example.com"
		if err != nil || got == nil || *got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
	if s, err := (Config{}).SMTPServer(); s != nil || err != nil {
		t.Errorf("unset: %v, %v", s, err)
	}
	bad := map[string]Config{
		"GATEHOUSE_SMTP_URL":  {SMTPURL: "http://u:hunter2@x", SMTPFrom: "a@b.c"},
		"GATEHOUSE_SMTP_FROM": {SMTPURL: "smtp://u:hunter2@x"},
	}
	for name, c := range bad {
		_, err := c.SMTPServer()
		if err == nil || !strings.HasPrefix(err.Error(), name) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
		if err := c.WithDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("Validate %s: %v", name, err)
		}
	}
	for _, u := range []string{"smtp://x:99999", "smtp:///", "smtp://x/path", "smtp://x?tls=no"} {
		if _, err := (Config{SMTPURL: u, SMTPFrom: "a@b.c"}).SMTPServer(); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// SMTP is the parsed GATEHOUSE_SMTP_URL and GATEHOUSE_SMTP_FROM.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps:// (TLS from the first byte); smtp:// requires
	// STARTTLS.
	ImplicitTLS bool
	// InsecureSkipVerify is ?insecure_skip_verify: any certificate is
	// accepted. For tests against a local server only.
	InsecureSkipVerify bool
	From               string
}

// SMTPServer parses SMTPURL and SMTPFrom; nil without SMTPURL. Errors name
// the variable on one line and never repeat the URL (it holds a password).
func (c Config) SMTPServer() (*SMTP, error) {
	if c.SMTPURL == "" {
		if c.SMTPFrom != "" {
			if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
				return nil, errors.New("GATEHOUSE_SMTP_FROM: must be an email address, e.g. Gatehouse <id@example.com>")
			}
		}
		return nil, nil
	}
	const want = "want smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (TLS)"
	u, err := url.Parse(c.SMTPURL)
	if err != nil {
		return nil, errors.New("GATEHOUSE_SMTP_URL: not a URL; " + want)
	}
	s := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.ImplicitTLS = 465, true
	default:
		return nil, fmt.Errorf("GATEHOUSE_SMTP_URL: scheme %q; %s", u.Scheme, want)
	}
	if s.Host == "" {
		return nil, errors.New("GATEHOUSE_SMTP_URL: no host; " + want)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("GATEHOUSE_SMTP_URL: bad port; " + want)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("GATEHOUSE_SMTP_URL: must not have a path; " + want)
	}
	for k := range u.Query() {
		if k != "insecure_skip_verify" {
			return nil, fmt.Errorf("GATEHOUSE_SMTP_URL: unknown parameter %q (only insecure_skip_verify, for tests)", k)
		}
		s.InsecureSkipVerify = true
	}
	if c.SMTPFrom == "" {
		return nil, errors.New("GATEHOUSE_SMTP_FROM: required with GATEHOUSE_SMTP_URL (the sender address)")
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil || strings.ContainsAny(c.SMTPFrom, "\r\n") {
		return nil, errors.New("GATEHOUSE_SMTP_FROM: must be an email address, e.g. Gatehouse <id@example.com>")
	}
	s.From = c.SMTPFrom
	return s, nil
}

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	gomail "github.com/wneessen/go-mail"
)

// sender delivers a batch; the result has one error (or nil) per message.
type sender interface {
	send(ctx context.Context, msgs []Message) []error
}

// permanentError marks a failure that retrying cannot fix (a 5xx answer,
// an address the library refuses).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// smtpSender sends over one connection per batch with go-mail; credentials
// are never logged.
//
// TLS: smtps:// speaks TLS from the first byte. smtp:// requires STARTTLS
// (go-mail's TLSMandatory, also its default, set here explicitly so a
// library change cannot weaken it): a server that does not offer it gets
// no AUTH, no message, and the delivery is retried. This holds with and
// without credentials and for every host, loopback included — the
// messages carry sign-in links, which are as sensitive as a password. We
// do not offer a cleartext mode (TLSOpportunistic), and
// ?insecure_skip_verify relaxes only the certificate check, never the
// encryption.
type smtpSender struct {
	server Server
	from   string
}

func (s *smtpSender) client() (*gomail.Client, error) {
	tlsConfig := &tls.Config{ServerName: s.server.Host, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: s.server.InsecureSkipVerify} //nolint:gosec // only with ?insecure_skip_verify, for tests
	opts := []gomail.Option{gomail.WithPort(s.server.Port), gomail.WithTLSConfig(tlsConfig)}
	if s.server.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.server.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.Username), gomail.WithPassword(s.server.Password))
	}
	return gomail.NewClient(s.server.Host, opts...)
}

func (s *smtpSender) send(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	out := make([]*gomail.Msg, 0, len(msgs))
	idx := make([]int, 0, len(msgs))
	for i, m := range msgs {
		gm, err := s.build(m)
		if err != nil {
			errs[i] = permanentError{err}
			continue
		}
		out = append(out, gm)
		idx = append(idx, i)
	}
	if len(out) == 0 {
		return errs
	}
	c, err := s.client()
	if err != nil {
		for _, i := range idx {
			errs[i] = permanentError{fmt.Errorf("smtp client: %w", err)}
		}
		return errs
	}
	err = c.DialAndSendWithContext(ctx, out...)
	for k, gm := range out {
		i := idx[k]
		switch {
		case gm.HasSendError():
			errs[i] = gm.SendError()
			if isPermanent(gm.SendError()) {
				errs[i] = permanentError{gm.SendError()}
			}
		case err != nil && !gm.IsDelivered():
			errs[i] = err // could not connect: temporary
		}
	}
	return errs
}

// isPermanent reports a 5xx answer (RFC 5321 §4.2.1: permanent negative
// completion). Anything else, a lost connection included, is worth
// retrying until MaxAttempts.
func isPermanent(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600
}

func (s *smtpSender) build(m Message) (*gomail.Msg, error) {
	gm := gomail.NewMsg()
	if err := gm.From(s.from); err != nil {
		return nil, err
	}
	if err := gm.To(m.To); err != nil {
		return nil, err
	}
	gm.Subject(m.Subject)
	gm.SetMessageID()
	gm.SetDate()
	gm.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		gm.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return gm, nil
}

// logSender stands in without GATEHOUSE_SMTP_URL: it writes the links of
// each message to the log (like the first-start setup link), so a local
// installation works without a mail server.
type logSender struct{ log *slog.Logger }

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

func (l logSender) send(ctx context.Context, msgs []Message) []error {
	for _, m := range msgs {
		l.log.InfoContext(ctx, "mail not sent (no GATEHOUSE_SMTP_URL); its links follow",
			slog.String("to", m.To), slog.String("subject", m.Subject),
			slog.Any("links", linkPattern.FindAllString(m.Text, -1)))
	}
	return make([]error, len(msgs))
}

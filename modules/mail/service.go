// Package mail sends Gatehouse's email: invitations, password-reset and
// verification links, and security notices.
//
// A message is written to the mail_outbox table by Enqueue (or Notify, which
// renders a template first) inside the caller's transaction, so it exists
// exactly when the change that caused it commits. Run, a background task,
// claims due rows and delivers them over SMTP; a server that is down delays a
// message (retries with backoff) without losing it, and a claim keeps a
// second replica from sending it twice (ARCHITECTURE.md, outbox). Without an
// SMTP server the worker writes each message's links to the log instead.
package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
)

// Message is one email. Text is required; HTML is its optional alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Server is the SMTP server messages go to (GATEHOUSE_SMTP_URL).
type Server struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS: TLS from the first byte (smtps, port 465); otherwise
	// STARTTLS is required.
	ImplicitTLS bool
	// InsecureSkipVerify accepts any certificate; for tests only.
	InsecureSkipVerify bool
}

// Options configure the service. Zero values take the defaults.
type Options struct {
	// Server is nil without GATEHOUSE_SMTP_URL: messages are then logged.
	Server *Server
	// From is the sender address (GATEHOUSE_SMTP_FROM).
	From string
	// Issuer is the public base URL, shown in every message.
	Issuer string
	// Product is the name messages sign with ("Gatehouse").
	Product string
	Logger  *slog.Logger
	Now     func() time.Time
	// Poll is how often the worker looks for due messages (1s).
	Poll time.Duration
	// RetryBase is the first retry's delay, doubled per attempt up to
	// RetryMax (1s, 30s), each delay drawn between half and all of it
	// (jitter, so replicas do not retry in step); a message still unsent
	// GiveUpAfter its enqueueing is given up on (24h).
	RetryBase   time.Duration
	RetryMax    time.Duration
	GiveUpAfter time.Duration
	// Lease is how long a claim keeps other workers off a message (2m);
	// it must exceed a delivery's timeout (SendTimeout, 30s).
	Lease       time.Duration
	SendTimeout time.Duration
	// Batch is how many messages one claim takes (20).
	Batch int
	// Retention is how long a finished message (sent, or given up on) stays
	// in the outbox — its recipient, subject and outcome; the bodies are
	// dropped when it finishes (7 days). The worker deletes older ones
	// once an hour.
	Retention time.Duration
}

// Service enqueues and delivers messages.
type Service struct {
	db     database.DB
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	send   sender
	tmpl   *templates
	sent   atomic.Int64
	failed atomic.Int64
	retry  atomic.Int64
}

// New validates opts and parses the templates.
func New(db database.DB, opts Options) (*Service, error) {
	opts.Product = cmp.Or(opts.Product, "Gatehouse")
	opts.Poll = cmp.Or(opts.Poll, time.Second)
	opts.RetryBase = cmp.Or(opts.RetryBase, time.Second)
	opts.RetryMax = cmp.Or(opts.RetryMax, 30*time.Second)
	opts.GiveUpAfter = cmp.Or(opts.GiveUpAfter, 24*time.Hour)
	opts.Lease = cmp.Or(opts.Lease, 2*time.Minute)
	opts.SendTimeout = cmp.Or(opts.SendTimeout, 30*time.Second)
	opts.Batch = cmp.Or(opts.Batch, 20)
	opts.Retention = cmp.Or(opts.Retention, 7*24*time.Hour)
	log := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, opts: opts, log: log, tmpl: t,
		now: func() time.Time { return now().UTC().Truncate(time.Microsecond) }}
	if opts.Server == nil {
		s.send = logSender{log: log}
	} else {
		if _, err := mail.ParseAddress(opts.From); err != nil {
			return nil, errors.New("mail: a sender address (GATEHOUSE_SMTP_FROM) is required with an SMTP server")
		}
		s.send = &smtpSender{server: *opts.Server, from: opts.From}
	}
	return s, nil
}

// Enqueue stores m for delivery. Inside a database.Transact it joins the
// caller's transaction: the message is sent only if that commits.
func (s *Service) Enqueue(ctx context.Context, m Message) error {
	addr, err := mail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("mail: recipient %q: not an address", m.To)
	}
	if m.Subject == "" || m.Text == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: a message needs a one-line subject and a text body")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	now := s.now()
	row := outboxRow{ID: id.String(), To: addr.Address, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		CreatedAt: now, NextAttemptAt: &now}
	if err := database.Conn(ctx, s.db.Gorm).Create(&row).Error; err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	return nil
}

// Notify renders template (one of the Template* names) for to with vars and
// enqueues it in the caller's transaction. Vars: "link" (absolute URL),
// "name", "email", "new_email", "expires", "detail".
func (s *Service) Notify(ctx context.Context, template, to string, vars map[string]string) error {
	m, err := s.tmpl.render(template, s.opts.Product, s.opts.Issuer, to, vars)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, m)
}

// Delivers reports whether messages go to a mail server (GATEHOUSE_SMTP_URL
// is set). Without one their links are only written to the log, so a
// caller acting for an administrator may show them the link instead.
func (s *Service) Delivers() bool { return s.opts.Server != nil }

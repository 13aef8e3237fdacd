package mail

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// purgeEvery is how often Run deletes the messages past Retention.
const purgeEvery = time.Hour

// Run delivers due messages until ctx ends (a background task for main's
// errgroup). Every replica may run it: claims keep them off each other's
// messages.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	var purged time.Time
	for {
		if s.now().Sub(purged) >= purgeEvery {
			if err := s.purge(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "mail: delete finished messages", slog.String("error", err.Error()))
			}
			purged = s.now()
		}
		for {
			n, err := s.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "mail: claim due messages", slog.String("error", err.Error()))
			}
			if err != nil || n < s.opts.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// DeliverDue claims one batch of due messages and tries each once; it
// returns how many it claimed.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	rows, err := s.claim(ctx, s.opts.Batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	msgs := make([]Message, len(rows))
	for i, r := range rows {
		msgs[i] = Message{To: r.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.SendTimeout)
	errs := s.send.send(sendCtx, msgs)
	cancel()
	// Outcomes are written even when ctx ends meanwhile: a message that
	// was delivered must be marked so, or it would go out twice.
	octx := context.WithoutCancel(ctx)
	for i, r := range rows {
		if err := s.settle(octx, r, errs[i]); err != nil {
			s.log.ErrorContext(ctx, "mail: record outcome", slog.String("id", r.ID), slog.String("error", err.Error()))
		}
	}
	return len(rows), nil
}

// settle records one message's outcome: sent, retried later with
// exponential backoff, or given up on (a permanent error, or GiveUpAfter
// passed since it was enqueued), which is logged at error level — the
// message's id and the server's answer, never its recipient or body — and
// counted.
func (s *Service) settle(ctx context.Context, r outboxRow, sendErr error) error {
	if sendErr == nil {
		s.sent.Add(1)
		return s.markSent(ctx, r)
	}
	msg := sendErr.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	// The log names the message by id; the recipient (which the library's
	// error repeats) stays in the outbox row, out of the log.
	logMsg := strings.ReplaceAll(msg, r.To, "[recipient]")
	var perm permanentError
	next := s.now().Add(s.backoff(r.Attempts))
	if errors.As(sendErr, &perm) || next.Sub(r.CreatedAt) > s.opts.GiveUpAfter {
		s.failed.Add(1)
		s.log.ErrorContext(ctx, "mail: message given up", slog.String("id", r.ID),
			slog.Int("attempts", r.Attempts), slog.String("error", logMsg))
		return s.markFailed(ctx, r, msg, nil)
	}
	s.retry.Add(1)
	s.log.WarnContext(ctx, "mail: delivery failed, will retry", slog.String("id", r.ID),
		slog.Int("attempts", r.Attempts), slog.Time("next_attempt_at", next), slog.String("error", logMsg))
	return s.markFailed(ctx, r, msg, &next)
}

// backoff is the delay after the attempts-th failed attempt: RetryBase
// doubled per earlier attempt, at most RetryMax, of which a random half is
// taken off (so the delay lies in [d/2, d]). With the defaults: about 1, 2,
// 4, 8, 16 s, then every 15–30 s — a server back up is used again within
// 30 s, and replicas that failed together do not retry together.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < attempts && d < s.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.opts.RetryMax)
	return d - rand.N(d/2+1)
}

package apikeys

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// usage collects last-use times in memory; Run writes them in batches, one
// UPDATE per key per flush, so verification never writes to the database.
type usage struct {
	mu   sync.Mutex
	last map[string]time.Time // key id → latest use
}

func newUsage() *usage { return &usage{last: map[string]time.Time{}} }

func (u *usage) record(id string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.last[id]; !ok || at.After(prev) {
		u.last[id] = at
	}
	u.mu.Unlock()
}

func (u *usage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.last) == 0 {
		return nil
	}
	m := u.last
	u.last = map[string]time.Time{}
	return m
}

// Flush writes the recorded last-use times now. Main need not call it: Run
// does, periodically and on shutdown. A failed write is logged and the time
// kept for the next flush.
func (s *Service) Flush(ctx context.Context) error {
	var firstErr error
	for id, at := range s.usage.take() {
		if err := s.store.touch(ctx, id, at.UTC().Truncate(time.Microsecond)); err != nil {
			s.usage.record(id, at)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Run flushes last-use times every FlushInterval until ctx ends, then once
// more (with a short deadline of its own) so a clean shutdown loses nothing.
// Main runs it among the background tasks.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.opts.Logger.WarnContext(ctx, "apikeys: flushing last-use times", slog.String("error", err.Error()))
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.Flush(fctx); err != nil {
				s.opts.Logger.WarnContext(fctx, "apikeys: flushing last-use times at shutdown", slog.String("error", err.Error()))
			}
			return nil
		}
	}
}

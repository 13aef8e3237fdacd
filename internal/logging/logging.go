// Package logging builds the process's slog.Logger. Its handler copies the
// request id from the context onto every record, so every line a request
// causes can be found with one grep.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// New returns a logger writing text or JSON to w.
func New(format string, w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := principal.RequestFrom(ctx).ID; id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Discard is a logger that writes nothing (tests).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

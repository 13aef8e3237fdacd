package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ErrorPageRenderer renders an HTML error page for browsers.
type ErrorPageRenderer interface {
	RenderError(c echo.Context, status int, message string) error
}

// WriteProblem writes a problem+json response.
func WriteProblem(c echo.Context, status int, detail string) error {
	p := Problem{Title: http.StatusText(status), Status: status, Detail: detail}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	return json.NewEncoder(c.Response()).Encode(p)
}

// handleError is echo's single error handler: problem+json for API clients,
// a page for browsers. 5xx details are logged with the request id, never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	detail := ""
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if msg, ok := he.Message.(string); ok {
			detail = msg
		}
		if he.Internal != nil && status >= 500 {
			err = he.Internal
		}
	}
	if status >= 500 && clientGone(c.Request(), err) {
		// The client went away (closed the connection, cancelled the
		// request) and the handler stopped on the cancelled context: not a
		// server error. Recorded as 499 in the request log (info) and the
		// metrics; nobody reads the answer.
		s.opts.Logger.DebugContext(c.Request().Context(), "request canceled by the client", slog.String("error", err.Error()))
		_ = c.NoContent(StatusClientClosedRequest)
		return
	}
	if status >= 500 {
		s.opts.Logger.ErrorContext(c.Request().Context(), "request failed", slog.String("error", err.Error()))
		detail = "internal error; the request id is in the X-Request-Id header"
	}
	if status == http.StatusRequestEntityTooLarge {
		detail = fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)
	}
	if detail == "" {
		detail = http.StatusText(status)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if IsAPIRequest(c.Request()) || s.bearerRoutes[c.Path()] || s.opts.ErrorPage == nil {
		_ = WriteProblem(c, status, detail)
		return
	}
	if rerr := s.opts.ErrorPage.RenderError(c, status, detail); rerr != nil {
		s.opts.Logger.ErrorContext(c.Request().Context(), "render error page", slog.String("error", rerr.Error()))
	}
}

// clientGone reports whether err is the request's own cancellation: the
// error says so, or the request's context was cancelled (a driver may wrap
// the cancellation in an error of its own).
func clientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled)
}

// recoverPanics turns a handler panic into a logged 500 without details.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				buf := make([]byte, 4096)
				buf = buf[:runtime.Stack(buf, false)]
				s.opts.Logger.ErrorContext(c.Request().Context(), "panic in handler",
					slog.Any("panic", r), slog.String("stack", string(buf)))
				err = echo.NewHTTPError(http.StatusInternalServerError).SetInternal(fmt.Errorf("panic: %v", r))
			}
		}()
		return next(c)
	}
}

package httpserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// ErrUnauthenticated is returned by authenticators for a missing, malformed,
// expired or revoked credential.
var ErrUnauthenticated = errors.New("unauthenticated")

// BearerAuthenticator turns an Authorization: Bearer credential into a
// principal. It returns ErrUnauthenticated (possibly wrapped) for a credential
// it does not accept.
type BearerAuthenticator interface {
	AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error)
}

// BearerFunc adapts a function to BearerAuthenticator.
type BearerFunc func(ctx context.Context, token string) (principal.Principal, error)

// AuthenticateBearer calls f.
func (f BearerFunc) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	return f(ctx, token)
}

// SessionAuthenticator turns the session cookie into a principal.
type SessionAuthenticator interface {
	AuthenticateSession(r *http.Request) (principal.Principal, error)
}

// requireBearer authenticates /api/v1. The OpenAPI document is public.
func (s *Server) requireBearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.Path == "/api/v1/openapi.json" || c.Request().URL.Path == "/api/v1/openapi.yaml" {
			return next(c)
		}
		token, ok := BearerToken(c.Request())
		if !ok || s.opts.Bearer == nil {
			return unauthorized(c, "a bearer credential (API key or access token) is required")
		}
		p, err := s.opts.Bearer.AuthenticateBearer(c.Request().Context(), token)
		if errors.Is(err, ErrUnauthenticated) {
			return unauthorized(c, "the bearer credential is invalid, expired or revoked")
		}
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(principal.With(c.Request().Context(), p)))
		return next(c)
	}
}

func unauthorized(c echo.Context, detail string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	return WriteProblem(c, http.StatusUnauthorized, detail)
}

// BearerToken extracts the credential of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireSession guards console pages: without a session the browser goes to
// /login and comes back afterwards.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.Session != nil {
			p, err := s.opts.Session.AuthenticateSession(c.Request())
			if err == nil {
				c.SetRequest(c.Request().WithContext(principal.With(c.Request().Context(), p)))
				return next(c)
			}
			if !errors.Is(err, ErrUnauthenticated) {
				return err
			}
		}
		if c.Request().Method != http.MethodGet {
			return echo.NewHTTPError(http.StatusUnauthorized, "your session has ended; sign in again")
		}
		login := "/login?return_to=" + url.QueryEscape(c.Request().URL.RequestURI())
		if c.Request().Header.Get("HX-Request") == "true" {
			// htmx would follow a redirect inside the XMLHttpRequest and swap
			// the sign-in page into the region; HX-Redirect sends the whole
			// tab there instead.
			c.Response().Header().Set("HX-Redirect", login)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, login)
	}
}

package httpserver

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// Reauthenticator is the sign-in side of re-authentication (CONTRACT
// "Passkeys and re-authentication"); the oidc module's pages implement it.
type Reauthenticator interface {
	// Confirm checks a proof of identity carried by the request itself (the
	// "Confirm it's you" form posts the original form back with it). On
	// success it records the fresh proof in the session and removes the
	// proof from the request, and returns true; without a proof it returns
	// false; with a wrong one it answers the request itself (the page again,
	// with an error) and returns false and that answer's error.
	Confirm(c echo.Context) (confirmed bool, answered bool, err error)
	// Challenge answers with the "Confirm it's you" page, which carries the
	// original request so that it is made once, after the proof.
	Challenge(c echo.Context) error
}

// ProblemReauthenticate is the problem type of a session-authenticated call
// to a sensitive action without a recent proof of identity.
const ProblemReauthenticate = "https://gatehouse.dev/problems/reauthentication-required"

// requireFreshAuth is Routes.Sensitive. Only browser sessions are asked:
// an API key or access token is its own proof, limited by its scopes.
func (s *Server) requireFreshAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principal.From(c.Request().Context())
		if p.Via != principal.ViaSession || s.fresh(p) {
			return next(c)
		}
		if s.opts.Reauth == nil {
			return echo.NewHTTPError(http.StatusUnauthorized, "this action needs a recent sign-in; sign in again")
		}
		if c.Request().Method == http.MethodPost {
			ok, answered, err := s.opts.Reauth.Confirm(c)
			if err != nil || answered {
				return err
			}
			if ok {
				return next(c)
			}
		}
		if IsAPIRequest(c.Request()) || isScriptRequest(c.Request()) {
			c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
			c.Response().WriteHeader(http.StatusUnauthorized)
			return json.NewEncoder(c.Response()).Encode(Problem{
				Type: ProblemReauthenticate, Title: "Re-authentication required", Status: http.StatusUnauthorized,
				Detail: "confirm your identity (password or passkey) and try again",
			})
		}
		return s.opts.Reauth.Challenge(c)
	}
}

// fresh reports whether a session proved the user's identity recently.
func (s *Server) fresh(p principal.Principal) bool {
	maxAge := s.opts.ReauthMaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	return !p.AuthTime.IsZero() && time.Since(p.AuthTime) < maxAge
}

// isScriptRequest reports a fetch from a page's script rather than a
// navigation (Fetch Metadata): it gets the problem, not the page.
func isScriptRequest(r *http.Request) bool {
	mode := r.Header.Get("Sec-Fetch-Mode")
	return mode != "" && mode != "navigate"
}

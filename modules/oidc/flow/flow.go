// Package flow is the contract between the two halves of the oidc module:
// the sign-in pages (package signin) drive an authorization request through
// AuthFlow, which the OpenID Provider (package provider) implements; the
// provider ends browser sessions through SessionEnder, which the pages
// implement. Neither half imports the other; both import this leaf.
package flow

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Authentication methods (RFC 8176) and ACR values recorded in a session.
const (
	AMRPassword          = "pwd"
	AMRHardware          = "hwk"
	AMRUser              = "user"
	ACRPassword          = "pwd"
	ACRPhishingResistant = "phr"
)

// Authentication is what a sign-in proved, as the session records it. AMR is
// every method proven in the session, so amr/acr/auth_time in the ID token
// are truthful.
type Authentication struct {
	UserID    string
	SessionID string
	AuthTime  time.Time // time of the most recent authentication in the session
	AMR       []string
	ACR       string
}

// PendingRequest is the part of an authorization request the pages need.
type PendingRequest struct {
	ID          string
	ClientID    string
	ClientName  string
	FirstParty  bool
	Scopes      []string
	Prompt      []string       // "none", "login", "consent", "select_account"
	MaxAge      *time.Duration // nil when absent
	ACRValues   []string
	LoginHint   string
	UILocales   []string
	RedirectURI string
	// CreatedAt is when the authorization request began. A session
	// authenticated at or after it has authenticated for this request, so
	// prompt=login and max_age are satisfied (e.g. on the consent step after
	// a fresh sign-in). Zero when unknown: prompt=login then always asks.
	CreatedAt time.Time
}

// ErrUnknownAuthRequest: the id does not name a pending, unexpired request.
var ErrUnknownAuthRequest = errors.New("oidc: unknown or expired authorization request")

// ErrOtherBrowser: the request was started by another browser. An
// authorization request belongs to the browser that started it (CONTRACT
// "OpenID Connect"): only that browser may sign in for it, consent to it or
// be sent its code, so a sign-in link sent to someone else hands nothing to
// the sender (the auth-session cookie of Keycloak, the login CSRF cookie of
// Hydra).
var ErrOtherBrowser = errors.New("oidc: this sign-in was started in another browser")

// BrowserCookie holds a random value that names the browser. The provider
// sets it at /authorize (keeping one that is already there) and stores its
// SHA-256 with the request; the pages and the callback compare.
const BrowserCookie = "gatehouse_auth_session"

type browserKey struct{}

// WithBrowser returns ctx carrying the BrowserCookie value of the request.
func WithBrowser(ctx context.Context, value string) context.Context {
	return context.WithValue(ctx, browserKey{}, value)
}

// BrowserFrom returns the BrowserCookie value in ctx ("" when none). The
// provider refuses every AuthFlow call whose browser differs from the one
// that started the request, so a caller that forgets WithBrowser fails
// closed.
func BrowserFrom(ctx context.Context) string {
	v, _ := ctx.Value(browserKey{}).(string)
	return v
}

// BrowserOf reads the BrowserCookie of r ("" when absent).
func BrowserOf(r *http.Request) string {
	if c, err := r.Cookie(BrowserCookie); err == nil {
		return c.Value
	}
	return ""
}

// AuthFlow is implemented by the provider and used by the sign-in pages.
// Every method answers ErrOtherBrowser unless ctx carries (WithBrowser) the
// browser that started the request.
type AuthFlow interface {
	// PendingRequest returns the request for the login/consent pages.
	PendingRequest(ctx context.Context, id string) (PendingRequest, error)
	// CompleteRequest marks the request authenticated (and consented) and
	// returns the URL to redirect the browser to (op.AuthCallbackURL).
	CompleteRequest(ctx context.Context, id string, a Authentication) (redirectURL string, err error)
	// FailRequest ends the request with an OAuth error (access_denied,
	// login_required, consent_required, unmet_authentication_requirements)
	// and returns the client's redirect_uri carrying error and state.
	FailRequest(ctx context.Context, id, code, description string) (redirectURL string, err error)
}

// SessionEnder is implemented by the pages and used by the provider (RP-
// initiated logout ends the session named by the ID token's sid).
type SessionEnder interface {
	EndSession(ctx context.Context, sessionID string) error
}

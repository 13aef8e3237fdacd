package oidc

import (
	"context"
	"errors"
	"time"
)

// This file is the seam between the two halves of the oidc module:
//
//   - the provider (provider*.go, storage*.go, client*.go, key*.go, token*.go):
//     zitadel/oidc's op.Storage over our tables; it implements authFlow.
//   - the sign-in pages (session*.go, login*.go, consent*.go, logout*.go,
//     throttle*.go, account*.go): server-side sessions, /login, /consent,
//     /logout, /account and sign-in protection; they implement sessionStore.
//
// Neither half reaches into the other's tables; they meet only here.

// Authentication methods (RFC 8176) and ACR values recorded in a session.
const (
	AMRPassword          = "pwd"
	AMRHardware          = "hwk"
	AMRUser              = "user"
	ACRPassword          = "pwd"
	ACRPhishingResistant = "phr"
)

// authentication is what a sign-in proved, as the session records it. AMR is
// every method proven in the session, so amr/acr/auth_time in the ID token
// are truthful.
type authentication struct {
	UserID    string
	SessionID string
	AuthTime  time.Time // time of the most recent authentication in the session
	AMR       []string
	ACR       string
}

// pendingRequest is the part of an authorization request the pages need.
type pendingRequest struct {
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

// errUnknownAuthRequest: the id does not name a pending, unexpired request.
var errUnknownAuthRequest = errors.New("oidc: unknown or expired authorization request")

// authFlow is implemented by the provider and used by the sign-in pages.
type authFlow interface {
	// pendingRequest returns the request for the login/consent pages.
	pendingRequest(ctx context.Context, id string) (pendingRequest, error)
	// completeRequest marks the request authenticated (and consented) and
	// returns the URL to redirect the browser to (op.AuthCallbackURL).
	completeRequest(ctx context.Context, id string, a authentication) (redirectURL string, err error)
	// failRequest ends the request with an OAuth error (access_denied,
	// login_required, consent_required, unmet_authentication_requirements)
	// and returns the client's redirect_uri carrying error and state.
	failRequest(ctx context.Context, id, code, description string) (redirectURL string, err error)
}

// sessionStore is implemented by the pages and used by the provider (RP-
// initiated logout ends the session named by the ID token's sid).
type sessionStore interface {
	endSession(ctx context.Context, sessionID string) error
}

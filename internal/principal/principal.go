// Package principal names who is making a request and from where. The HTTP
// layer puts both in the request context; services read them for
// authorization and for the audit log.
package principal

import (
	"context"
	"time"
)

// Kind distinguishes people, machines and OAuth clients.
type Kind string

const (
	User    Kind = "user"    // a person (or a service account acting as a user)
	Service Kind = "service" // a service account (a user marked as machine)
	Client  Kind = "client"  // an OAuth client acting for itself (client_credentials)
	System  Kind = "system"  // Gatehouse itself or its CLI
)

// Via says how the principal authenticated.
type Via string

const (
	ViaSession     Via = "session"
	ViaAPIKey      Via = "api_key"
	ViaAccessToken Via = "access_token"
	ViaCLI         Via = "cli"
)

// Principal is an authenticated caller. Roles are not carried here: the
// authorizer resolves them at decision time so a revoked role takes effect at
// once.
type Principal struct {
	Kind Kind
	// ID is the user id (User, Service) or the client id (Client).
	ID  string
	Via Via
	// CredentialID is the API key id, session id or token id used.
	CredentialID string
	// AuthTime is when a browser session last proved the user's identity
	// (password or passkey); zero for other credentials. Sensitive actions
	// need it recent (CONTRACT "Re-authentication").
	AuthTime time.Time
	// Scopes restricts an API key or access token; nil means the owner's full
	// rights, an empty non-nil slice means none.
	Scopes []string
}

// IsUser reports whether the principal acts as a user account (person or
// service account), i.e. has an identity-module user id.
func (p Principal) IsUser() bool { return p.Kind == User || p.Kind == Service }

// SystemPrincipal is the actor for CLI commands and start-up work.
var SystemPrincipal = Principal{Kind: System, ID: "gatehouse", Via: ViaCLI}

type principalKey struct{}
type requestKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal in ctx, if any.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Request describes where a request came from, for the audit log and logs.
type Request struct {
	ID        string
	IP        string
	UserAgent string
}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request info in ctx (zero if none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Resource is what an action is asked about: a type from the list below, an
// id ("*" for the collection) and, for personal resources, the user id that
// owns it (so "every user manages their own" can be decided without the
// authorizer reading other modules' tables).
//
// Types: users, roles, api-keys, audit-events, clients, policies,
// signing-keys, resources (registered APIs), sessions, passkeys, authzen
// (id "decisions").
// Actions: read, create, update, delete, and specific ones such as
// assign (roles), evaluate (authzen), rotate (clients, signing-keys).
type Resource struct {
	Type    string
	ID      string
	OwnerID string
}

// String renders the contract's "<type>:<id>" form.
func (r Resource) String() string {
	id := r.ID
	if id == "" {
		id = "*"
	}
	return r.Type + ":" + id
}

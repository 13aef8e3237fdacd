package oidc

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/provider"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
	"github.com/gatehouse/gatehouse/web"
)

// Deps are the services the module calls out to; main passes them in.
type Deps struct {
	// Users: identity.Service.
	Users UserDirectory
	// Audit: audit.Service.
	Audit AuditLog
	// Authorizer guards /api/v1/clients and /api/v1/signing-keys.
	Authorizer Authorizer
	// Permissions is optional: nil means no client gets a permissions claim.
	Permissions PermissionSource
	// Pages renders the sign-in, consent, logout and account pages.
	Pages *web.Renderer
	// Passkeys is optional (passkeys.Service): "Use passkey" on /login,
	// step-up for acr_values=phr, the passkeys list on /account.
	Passkeys signin.Passkeys
	// Recovery is optional (identity.Service): "Forgot password?" and the
	// pages that emailed links open.
	Recovery signin.Recovery
	// APIKeys is optional (apikeys.Service): API keys as subject tokens of
	// the token exchange grant.
	APIKeys provider.APIKeyAuthenticator
	// AccountKeys is optional (main adapts apikeys.Service): a user's own
	// personal API keys on /account.
	AccountKeys signin.APIKeys
	// Passwords is optional (identity.Service): "Change password" on
	// /account.
	Passwords signin.PasswordSetter
	// Notifier is optional (mail.Service): an account locked after failed
	// sign-ins is told by mail.
	Notifier signin.Notifier
}

// Options configure the module.
type Options struct {
	// Issuer is the public base URL (config.Config.Issuer); required.
	Issuer string
	// MasterKey (32 bytes) encrypts signing keys at rest; required and the
	// same on every replica.
	MasterKey []byte
	// RefreshReuseInterval: how long after a refresh token's rotation a
	// concurrent redemption of it still succeeds (0: off);
	// GATEHOUSE_REFRESH_REUSE_INTERVAL.
	RefreshReuseInterval time.Duration
	Logger               *slog.Logger
}

// Module is the oidc module: the client registry, the OpenID Provider and
// the sign-in pages, joined here and nowhere else.
type Module struct {
	clients   *clients.Service
	resources *resources.Service
	provider  *provider.Provider
	signin    *signin.Pages
	authz     Authorizer
	db        database.DB
}

var (
	_ module.Module             = (*Module)(nil)
	_ identity.Listener         = (*Module)(nil)
	_ identity.PasswordListener = (*Module)(nil)
)

// New builds the module; it does not touch the database (Init does, at
// start-up). The registry tells the provider when a client is deleted, the
// pages drive the provider's flow.AuthFlow, and the provider ends the
// pages' sessions on RP-initiated logout (flow.SessionEnder).
func New(db database.DB, deps Deps, opts Options) (*Module, error) {
	if deps.Users == nil || deps.Audit == nil || deps.Authorizer == nil || deps.Pages == nil {
		return nil, errors.New("oidc: New: Users, Audit, Authorizer and Pages are required")
	}
	reg := clients.New(db, clients.Deps{Audit: deps.Audit}, clients.Options{})
	apis := resources.New(db, deps.Audit, resources.Options{})
	var perms provider.PermissionSource
	if deps.Permissions != nil {
		perms = deps.Permissions
	}
	p, err := provider.NewProvider(db, deps.Users, reg, deps.Audit, deps.Authorizer, provider.Options{
		Issuer: opts.Issuer, MasterKey: opts.MasterKey, Permissions: perms, Logger: opts.Logger,
		RefreshReuseInterval: opts.RefreshReuseInterval, Resources: apis, APIKeys: deps.APIKeys,
	})
	if err != nil {
		return nil, err
	}
	reg.AddDeleteListener(p)
	// The audit id of an unknown sign-in identifier is keyed by the master
	// key, so it is the same on every replica and guessable by nobody.
	idKey, err := hkdf.Key(sha256.New, opts.MasterKey, nil, signin.IdentifierKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("oidc: derive the sign-in identifier key: %w", err)
	}
	pages, err := signin.New(signin.Config{
		DB: db.Gorm, Renderer: deps.Pages, Users: deps.Users, Audit: deps.Audit, Flow: p,
		Passkeys: deps.Passkeys, Recovery: deps.Recovery, Notifier: deps.Notifier,
		Passwords: deps.Passwords, APIKeys: deps.AccountKeys, Issuer: opts.Issuer, Logger: opts.Logger, IdentifierKey: idKey,
	})
	if err != nil {
		return nil, err
	}
	p.SetSessions(pages)
	return &Module{clients: reg, resources: apis, provider: p, signin: pages, authz: deps.Authorizer, db: db}, nil
}

// Mount registers /api/v1/clients, the provider's endpoints (and
// /api/v1/signing-keys), and the sign-in and account pages.
func (m *Module) Mount(r module.Routes) {
	if r.API != nil {
		clients.MountAPI(r.API, m.clients, m.authz)
		resources.MountAPI(r.API, m.resources, m.authz)
	}
	m.provider.Mount(r)
	m.signin.Mount(r)
}

// Init creates the signing keys on first start and loads keys and
// revocations; run it once before serving.
func (m *Module) Init(ctx context.Context) error { return m.provider.Init(ctx) }

// Run is all background work, until ctx ends: the provider's (revocation
// polling, key refresh and rotation, token clean-up) and the pages'
// (expired sessions, lockout counters).
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.provider.Run(ctx) })
	g.Go(func() error { return m.signin.Run(ctx) })
	return g.Wait()
}

// AuthenticateBearer verifies one of our access tokens
// (httpserver.BearerAuthenticator).
func (m *Module) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	return m.provider.AuthenticateBearer(ctx, token)
}

// AuthenticateSession authenticates the session cookie for the console
// groups (httpserver.SessionAuthenticator).
func (m *Module) AuthenticateSession(r *http.Request) (principal.Principal, error) {
	return m.signin.AuthenticateSession(r)
}

// Close waits for the provider's start-up work still running; call it
// before closing the database.
func (m *Module) Close() { m.provider.Close() }

// Reauth is the "Confirm it's you" step the kernel's Routes.Sensitive asks
// for (httpserver.Reauthenticator).
func (m *Module) Reauth() httpserver.Reauthenticator { return m.signin }

// Clients is the client registry, for the CLI (gatehouse clients create).
func (m *Module) Clients() *clients.Service { return m.clients }

// Resources is the API registry, for the CLI (gatehouse resources create).
func (m *Module) Resources() *resources.Service { return m.resources }

// SigningKeys lists the published token signing keys, newest first (the
// console's "Signing keys").
func (m *Module) SigningKeys(context.Context) ([]provider.SigningKey, error) {
	return m.provider.SigningKeys(), nil
}

// RotateSigningKeys replaces the active signing keys now; it is audited as
// POST /api/v1/signing-keys/rotate is.
func (m *Module) RotateSigningKeys(ctx context.Context) error {
	return m.provider.RotateSigningKeys(ctx)
}

// UserChanged (identity.Listener, inside identity's transaction): a
// disabled user loses their tokens (provider), then their browser sessions
// (signin). The first error stops the fan-out and rolls the change back.
func (m *Module) UserChanged(ctx context.Context, userID string) error {
	if err := m.provider.UserChanged(ctx, userID); err != nil {
		return err
	}
	return m.signin.UserChanged(ctx, userID)
}

// UserDeleted (identity.Listener): a deleted user's tokens end (provider),
// then their sessions and consents (signin), as UserChanged.
func (m *Module) UserDeleted(ctx context.Context, userID string) error {
	if err := m.provider.UserDeleted(ctx, userID); err != nil {
		return err
	}
	return m.signin.UserDeleted(ctx, userID)
}

// PasswordChanged (identity.PasswordListener, inside identity's password
// transaction; main registers it with AddPasswordListener): the user's
// refresh tokens are revoked (provider; with them the access tokens of
// those grants), then every browser session but keepSessionID ends
// (signin). API keys are separate credentials and stay. The first error
// rolls the password change back.
func (m *Module) PasswordChanged(ctx context.Context, userID, keepSessionID string) error {
	if err := m.provider.PasswordChanged(ctx, userID, keepSessionID); err != nil {
		return err
	}
	return m.signin.PasswordChanged(ctx, userID, keepSessionID)
}

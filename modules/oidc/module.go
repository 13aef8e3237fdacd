package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/provider"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
	"github.com/gatehouse/gatehouse/web"
)

// PagesOptions is what the sign-in pages need from main.
type PagesOptions struct {
	Renderer *web.Renderer
	// Users verifies passwords and loads users; identity.Service satisfies it.
	Users  signin.Directory
	Logger *slog.Logger
	Now    func() time.Time
}

// Module is the oidc module: the provider's endpoints and client API plus
// the sign-in pages.
type Module struct {
	p     *provider.Provider
	pages *signin.Pages
}

var _ module.Module = (*Module)(nil)

// NewModule joins the provider and the sign-in pages through the seam: the
// pages drive the provider's authFlow, the provider ends the pages'
// sessions on RP-initiated logout.
func NewModule(p *provider.Provider, o PagesOptions) (*Module, error) {
	if p == nil {
		return nil, errors.New("oidc: NewModule: provider is required")
	}
	logger := o.Logger
	if logger == nil {
		logger = p.Logger()
	}
	pg, err := signin.New(signin.Config{
		DB: p.DB().Gorm, Renderer: o.Renderer, Users: o.Users, Audit: p.AuditLog(), Flow: p,
		Issuer: p.Issuer(), Logger: logger, Now: o.Now,
	})
	if err != nil {
		return nil, err
	}
	p.SetSessions(pg)
	return &Module{p: p, pages: pg}, nil
}

// Name is the table prefix and migrations folder.
func (m *Module) Name() string { return "oidc" }

// Mount registers the OIDC endpoints and pages on Public, the clients and
// signing-keys API on API, and the account pages.
func (m *Module) Mount(r module.Routes) {
	m.p.Mount(r)
	m.pages.Mount(r)
}

// AuthenticateSession authenticates the session cookie for the console
// groups (httpserver.SessionAuthenticator).
func (m *Module) AuthenticateSession(r *http.Request) (principal.Principal, error) {
	return m.pages.AuthenticateSession(r)
}

// Listener ends a user's sessions when identity disables or deletes them;
// main registers it with identity.Service.AddListener.
func (m *Module) Listener() identity.Listener { return m.pages }

// Run is the pages' background clean-up (sessions, throttle counters).
func (m *Module) Run(ctx context.Context) error { return m.pages.Run(ctx) }

// The provider's API, re-exported for main (the CLI's client registry, the
// bearer authenticator) until the wiring moves to a single constructor.
type (
	// Provider is the OpenID Provider (package provider).
	Provider = provider.Provider
	// Options configure the provider.
	Options = provider.Options
	// PermissionSource feeds the optional permissions claim.
	PermissionSource = provider.PermissionSource
	// NewClient is a client registration (clients create, POST /api/v1/clients).
	NewClient = provider.NewClient
	// ClientValidationError names the field of a client definition that is wrong.
	ClientValidationError = provider.ClientValidationError
)

// NewProvider builds the OpenID Provider; see provider.New.
var NewProvider = provider.NewProvider

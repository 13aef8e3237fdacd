package identity

import (
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/module"
)

// ModuleOptions are the HTTP side's dependencies.
type ModuleOptions struct {
	// Authorizer decides every API call; required for the API.
	Authorizer Authorizer
	// Grants guards against escalation: role grants and changes to other
	// users' credentials, status or existence. Without it those operations
	// fail closed (500).
	Grants Grants
	// Pages renders the first-start /setup page; nil leaves it out.
	Pages PageRenderer
	// SecureCookies marks the setup page's CSRF cookie Secure (https issuer).
	SecureCookies bool
	// Logger receives unexpected (5xx) errors; nil discards them.
	Logger *slog.Logger
}

type identityModule struct {
	svc  *Service
	opts ModuleOptions
	log  *slog.Logger
}

// NewModule returns the identity module: the users and roles API under
// /api/v1 and the first-start /setup page.
func NewModule(svc *Service, opts ModuleOptions) module.Module {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &identityModule{svc: svc, opts: opts, log: log}
}

// Mount registers the API operations and the setup page.
func (m *identityModule) Mount(r module.Routes) {
	if r.API != nil && m.opts.Authorizer != nil {
		m.mountAPI(r.API)
	}
	if r.Public != nil && m.opts.Pages != nil {
		m.mountPages(r.Public)
	}
}

package authz

import (
	"strings"

	"github.com/gatehouse/gatehouse/internal/module"
)

// Module mounts the policy API (/api/v1/policies, /api/v1/roles/{name}/parents)
// and the AuthZEN decision API (/.well-known/authzen-configuration,
// /access/v1/evaluation, /access/v1/evaluations).
type Module struct {
	svc    *Service
	issuer string
}

// NewModule returns the HTTP side of svc; issuer is the public base URL the
// AuthZEN metadata advertises.
func NewModule(svc *Service, issuer string) *Module {
	return &Module{svc: svc, issuer: strings.TrimSuffix(issuer, "/")}
}

var _ module.Module = (*Module)(nil)

// Mount registers the routes.
func (m *Module) Mount(r module.Routes) {
	if r.API != nil {
		m.registerAPI(r.API)
	}
	if r.Public != nil && r.Bearer != nil {
		m.mountAuthZEN(r.Public, r.Bearer)
	}
}

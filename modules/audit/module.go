package audit

import "github.com/gatehouse/gatehouse/internal/module"

// NewModule returns the audit module: its name ("audit", the table prefix) and
// the read API GET /api/v1/audit-events. Recording needs no routes: modules
// call Service.Record directly.
func NewModule(svc *Service, authz Authorizer) module.Module {
	return auditModule{svc: svc, authz: authz}
}

type auditModule struct {
	svc   *Service
	authz Authorizer
}

func (m auditModule) Mount(r module.Routes) {
	registerAPI(r.API, m.svc, m.authz)
}

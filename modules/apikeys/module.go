package apikeys

import "github.com/gatehouse/gatehouse/internal/module"

// NewModule returns the apikeys module: name "apikeys" (table prefix) and the
// API routes /api-keys and /service-accounts under /api/v1.
func NewModule(svc *Service, authz Authorizer) module.Module {
	return apikeysModule{svc: svc, authz: authz}
}

type apikeysModule struct {
	svc   *Service
	authz Authorizer
}

func (m apikeysModule) Mount(r module.Routes) { registerAPI(r.API, m.svc, m.authz) }

package passkeys

import "github.com/gatehouse/gatehouse/internal/module"

// NewModule returns the passkeys module: name "passkeys" (table prefix) and the
// account routes under /account/passkeys (session and CSRF required by the
// group). Sign-in routes (/login/passkey/*) belong to the sign-in code,
// which owns sessions and calls BeginLogin, BeginReauth and FinishLogin.
func NewModule(svc *Service) module.Module { return passkeysModule{svc: svc} }

type passkeysModule struct{ svc *Service }

func (m passkeysModule) Mount(r module.Routes) { registerAccount(r.Account, r.Sensitive, m.svc) }

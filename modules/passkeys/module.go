package passkeys

import "github.com/gatehouse/gatehouse/internal/module"

// Module returns the passkeys module: name "passkeys" (table prefix) and the
// account routes under /account/passkeys (session and CSRF required by the
// group). Sign-in routes (/login/passkey/*) belong to the sign-in code,
// which owns sessions and calls BeginLogin, BeginReauth and FinishLogin.
func Module(svc *Service) module.Module { return passkeysModule{svc: svc} }

type passkeysModule struct{ svc *Service }

func (passkeysModule) Name() string { return "passkeys" }

func (m passkeysModule) Mount(r module.Routes) { registerAccount(r.Account, m.svc) }

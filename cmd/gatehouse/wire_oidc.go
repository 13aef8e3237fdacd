package main

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/oidc"
)

// wireOIDC builds the OpenID Connect provider (op endpoints, clients API,
// signing keys) and its sign-in pages, joined in one module. Start-up
// creates the signing keys on first start; the background task polls
// revocations, refreshes and rotates keys, and cleans up. The lead composes
// the bearer authenticator from a.apikeys ("gh_" keys) and a.oidc
// (AuthenticateBearer verifies our JWT access tokens offline).
func (a *app) wireOIDC(ctx context.Context) error {
	// authz is wired before oidc (wire.go); the guard keeps a typed nil
	// out of the interface should that order change.
	var perms oidc.PermissionSource
	if a.authz != nil {
		perms = a.authz
	}
	p, err := oidc.NewProvider(a.db, a.identity, a.audit, lateAuthorizer{a: a}, oidc.Options{
		Issuer:      a.cfg.Issuer,
		MasterKey:   a.masterKey,
		Logger:      a.logger,
		Permissions: perms,
	})
	if err != nil {
		return err
	}
	a.oidc = p
	m, err := oidc.NewModule(p, oidc.PagesOptions{
		Renderer: a.web,
		Users:    a.identity,
		Logger:   a.logger,
	})
	if err != nil {
		return err
	}
	a.identity.AddListener(p)            // disabled/deleted users lose their tokens
	a.identity.AddListener(m.Listener()) // ... and their browser sessions
	a.modules = append(a.modules, m)
	a.session = m
	a.startup = append(a.startup, p.Init)
	a.background = append(a.background, p.Run, m.Run)
	return nil
}

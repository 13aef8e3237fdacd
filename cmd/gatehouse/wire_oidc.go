package main

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/oidc"
)

// wireOIDC builds the oidc module: client registry, OpenID Provider (op
// endpoints, signing keys) and sign-in pages. Start-up creates the signing
// keys on first start; the background task polls revocations, refreshes
// and rotates keys, and cleans up tokens, sessions and counters. The lead
// composes the bearer authenticator from a.apikeys ("gh_" keys) and a.oidc
// (AuthenticateBearer verifies our JWT access tokens offline).
func (a *app) wireOIDC(ctx context.Context) error {
	// authz is wired before oidc (wire.go); the guard keeps a typed nil
	// out of the interface should that order change.
	var perms oidc.PermissionSource
	if a.authz != nil {
		perms = a.authz
	}
	m, err := oidc.New(a.db, oidc.Deps{
		Users: a.identity, Audit: a.audit, Authorizer: lateAuthorizer{a: a},
		Permissions: perms, Pages: a.web,
	}, oidc.Options{Issuer: a.cfg.Issuer, MasterKey: a.masterKey, Logger: a.logger, RefreshReuseInterval: a.cfg.RefreshReuse()})
	if err != nil {
		return err
	}
	a.oidc = m
	a.identity.AddListener(m) // disabled/deleted users lose their tokens, then their sessions
	a.modules = append(a.modules, m)
	a.session = m
	a.startup = append(a.startup, m.Init)
	a.background = append(a.background, m.Run)
	return nil
}

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// wireIdentity builds the identity module (users, roles, passwords), its API
// and /setup page, and the first-start task that makes sure an admin exists.
func (a *app) wireIdentity(ctx context.Context) error {
	a.identity = identity.NewService(a.db, identity.Options{}, a.audit)
	a.modules = append(a.modules, identity.Module(a.identity, identity.ModuleOptions{
		Authorizer:    lateAuthorizer{a: a},
		Grants:        lateAuthorizer{a: a},
		Pages:         a.web,
		SecureCookies: a.cfg.IssuerIsHTTPS(),
		Logger:        a.logger,
	}))
	a.startup = append(a.startup, a.ensureAdmin)
	return nil
}

// ensureAdmin runs at start: with GATEHOUSE_BOOTSTRAP_ADMIN_* set it creates
// that admin when no active admin exists; otherwise, while no admin exists,
// it prints a one-time setup link. Both are safe when replicas start
// together.
func (a *app) ensureAdmin(ctx context.Context) error {
	ctx = principal.With(ctx, principal.SystemPrincipal)
	if a.cfg.BootstrapAdminEmail != "" {
		u, created, err := a.identity.BootstrapAdmin(ctx, a.cfg.BootstrapAdminEmail, a.cfg.BootstrapAdminPassword)
		if err != nil {
			return errors.New("GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD: " + err.Error())
		}
		if created {
			a.logger.Info("bootstrap admin ready", slog.String("email", u.Email), slog.String("user_id", u.ID))
		}
		return nil
	}
	token, ok, err := a.identity.CreateSetupToken(ctx)
	if err != nil || !ok {
		return err
	}
	a.logger.Warn("no admin exists yet: open this one-time link within 24 hours to create the first admin (or set GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD)",
		slog.String("url", a.cfg.Issuer+"/setup?token="+token))
	return nil
}

// lateAuthorizer asks the authz module, which is wired after identity (it
// reads identity's roles), at request time. Until authz is wired every
// decision fails closed.
type lateAuthorizer struct{ a *app }

func (l lateAuthorizer) Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
	az := l.a.authorizer()
	if az == nil {
		return false, errors.New("identity: no authorizer wired")
	}
	return az.Can(ctx, p, res, action)
}

// CoversRole asks authz whether p holds every right role grants (no
// escalation); it fails closed until authz is wired.
func (l lateAuthorizer) CoversRole(ctx context.Context, p principal.Principal, role string) (bool, error) {
	if l.a.authz == nil {
		return false, errors.New("identity: no authorizer wired")
	}
	return l.a.authz.CoversRole(ctx, p, role)
}

// CoversUser asks authz whether p holds every right user userID holds.
func (l lateAuthorizer) CoversUser(ctx context.Context, p principal.Principal, userID string) (bool, error) {
	if l.a.authz == nil {
		return false, errors.New("identity: no authorizer wired")
	}
	return l.a.authz.CoversUser(ctx, p, userID)
}

var _ identity.Grants = lateAuthorizer{}

// authorizer returns the authz service as identity's Authorizer, or nil
// before it is wired.
func (a *app) authorizer() identity.Authorizer {
	if a.authz == nil {
		return nil
	}
	return a.authz
}

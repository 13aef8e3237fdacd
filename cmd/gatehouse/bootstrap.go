package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/principal"
)

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

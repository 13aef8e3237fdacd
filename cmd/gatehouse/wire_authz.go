package main

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// wireAuthz builds the authorization module: the Casbin enforcer over the
// authz_ tables (roles come from identity at decision time), its policy API,
// the AuthZEN decision endpoints, identity's listener (role changes drop the
// role cache; a deleted user's rules are removed) and the background poll
// that reloads policies changed by other replicas.
func (a *app) wireAuthz(ctx context.Context) error {
	svc, err := authz.NewService(ctx, a.db, authz.Options{
		Logger:        a.logger,
		IsUnknownUser: func(err error) bool { return errors.Is(err, identity.ErrNotFound) },
	}, a.identity, a.audit)
	if err != nil {
		return err
	}
	a.authz = svc
	a.identity.AddListener(svc)
	a.identity.AddRoleListener(svc)
	a.modules = append(a.modules, authz.NewModule(svc, a.cfg.Issuer))
	a.background = append(a.background, svc.Run)
	return nil
}

package main

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/apikeys"
)

// wireAPIKeys builds the apikeys module: the service (which verifies "gh_"
// bearer keys for the server), its API, identity's listener (disabling or
// deleting a user drops/deletes their keys in the same transaction) and the
// background flush of last-use times.
func (a *app) wireAPIKeys(ctx context.Context) error {
	a.apikeys = apikeys.NewService(a.db.Gorm, a.identity, a.audit, apikeys.Options{Logger: a.logger})
	a.identity.AddListener(a.apikeys)
	a.modules = append(a.modules, apikeys.Module(a.apikeys, lateAuthorizer{a: a}))
	a.background = append(a.background, a.apikeys.Run)
	return nil
}

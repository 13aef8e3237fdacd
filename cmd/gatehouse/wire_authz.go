package main

import "context"

// wireAuthz builds the authorization module (Casbin enforcer, policies,
// AuthZEN decision API).
func (a *app) wireAuthz(ctx context.Context) error {
	return nil
}

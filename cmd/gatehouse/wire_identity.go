package main

import "context"

// wireIdentity builds the identity module (users, roles, passwords).
func (a *app) wireIdentity(ctx context.Context) error {
	return nil
}

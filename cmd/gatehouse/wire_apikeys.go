package main

import "context"

// wireAPIKeys builds the apikeys module.
func (a *app) wireAPIKeys(ctx context.Context) error {
	return nil
}

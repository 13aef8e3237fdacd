package main

import "context"

// wireAudit mounts the audit log API (the service itself is built first in
// newApp because every module records through it).
func (a *app) wireAudit(ctx context.Context) error {
	return nil
}

package main

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/audit"
)

// wireAudit mounts the audit log API (the service itself is built first in
// newApp because every module records through it).
func (a *app) wireAudit(ctx context.Context) error {
	a.modules = append(a.modules, audit.Module(a.audit, lateAuthorizer{a: a}))
	return nil
}

package audit

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// Authorizer decides whether a principal may act on a resource. The authz
// module implements it; the audit API asks it for ("audit-events", "read").
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

package httpserver

import (
	"context"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// Authorizer decides whether p may perform action on res (the authz
// module's Can). Each module declares the same one-method interface in its
// deps.go; this one is what Require takes.
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// Require is the one permission check of the API handlers: 401 without a
// principal, 403 "you may not <action> <type>:<id>" when the authorizer says
// no, and the authorizer's own error as is, for the caller to map (it is
// not a huma.StatusError).
func Require(ctx context.Context, az Authorizer, res principal.Resource, action string) error {
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	allowed, err := az.Can(ctx, p, res, action)
	if err != nil {
		return err
	}
	if !allowed {
		return huma.Error403Forbidden("you may not " + action + " " + res.String())
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// apiKeyPrefix marks Gatehouse API keys; anything else is tried as an OAuth
// access token. Dispatching on the prefix keeps each credential on one path.
const apiKeyPrefix = "gh_"

// bearerChain authenticates a bearer credential with the API-key service or
// the OIDC provider, whichever issued it.
type bearerChain struct {
	keys   httpserver.BearerAuthenticator
	tokens httpserver.BearerAuthenticator
}

func (b bearerChain) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	next := b.tokens
	if strings.HasPrefix(token, apiKeyPrefix) {
		next = b.keys
	}
	if next == nil {
		return principal.Principal{}, fmt.Errorf("no authenticator for this credential: %w", httpserver.ErrUnauthenticated)
	}
	return next.AuthenticateBearer(ctx, token)
}

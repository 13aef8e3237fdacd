package provider

import (
	"net/http"

	"github.com/rs/cors"
)

// withCORS replaces zitadel/oidc's default CORS policy, which reflects any
// Origin and allows credentials, on every endpoint of the op handler (token,
// introspection, revocation, userinfo, /authorize and /end_session); it
// wraps our own early answers (requireIntrospectionAuth) too. A
// cross-origin call is allowed only from the origin of a redirect URI
// registered for some client (a single-page app calling the token endpoint
// or userinfo; clients.Service.IsRedirectOrigin, cached), and never with
// credentials: none of these endpoints reads a cookie, so no origin needs
// the browser's. Discovery and the JWKS are public documents, served with
// "*" (discovery.go).
func (p *Provider) withCORS(next http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowOriginVaryRequestFunc: func(r *http.Request, origin string) (bool, []string) {
			ok, err := p.clients.IsRedirectOrigin(r.Context(), origin)
			return err == nil && ok, nil
		},
		AllowCredentials: false,
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type", "X-Requested-With"},
		ExposedHeaders:   []string{"Location", "Content-Length"},
	}).Handler(next)
}

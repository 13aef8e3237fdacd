// Package oidc is Gatehouse's OpenID Connect provider and its sign-in pages.
// This package is the façade (module.go): it builds both halves, joins them,
// mounts their routes and runs their background work. The map:
//
//	browser → /authorize              provider/server.go (Authorize: PKCE policy), provider/authrequest.go (stored request)
//	        → /login, /consent        signin/login.go, signin/continue.go (prompt, max_age, acr), signin/consent.go
//	          lockout                 signin/lockout.go (per-identifier and per-address counters, in the database)
//	          browser sessions        signin/sessions.go; /account: signin/account.go; /logout: signin/logout.go
//	        → /authorize/callback     flow.AuthFlow, implemented in provider/authflow.go
//	app     → /oauth/token            provider/server.go → provider/grants.go (code, client credentials, issue),
//	                                  provider/grant_refresh.go (refresh rotation and reuse detection)
//	        → /oauth/introspect, /oauth/revoke, /userinfo
//	                                  provider/endpoints.go (Gatehouse owns them: RFC 9068 access tokens)
//	        → /keys, discovery        provider/keys.go, provider/server.go
//	        → /api/v1/clients         provider/http_api.go, provider/client*.go
//
// Packages: flow (the contract between the halves: AuthFlow, SessionEnder,
// PendingRequest, Authentication), signin (the browser side), provider (the
// OpenID Provider; the op.Storage methods zitadel/oidc calls are in
// provider/storage.go), internal/secret (the one copy of the random-secret
// helpers). signin and provider never import each other (internal/archtest).
package oidc

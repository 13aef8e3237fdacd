// Package oidc is Gatehouse's OpenID Connect provider and its sign-in pages.
// This package is the façade: module.go builds the client registry, the
// provider and the sign-in pages from one Deps and Options (deps.go
// declares what they need from other modules), joins them, mounts their
// routes, runs their background work and fans identity's listener calls out
// to them. The map, request by request:
//
//	browser → /authorize              provider/server.go (Authorize: PKCE policy; the library validates),
//	                                  provider/authrequest.go (the stored request, codes)
//	        → /login                  signin/login.go (password), signin/passkey.go ("Use passkey":
//	                                  /login/passkey/{begin,finish}, step-up offer), signin/attempt.go
//	                                  (who an attempt names: account or keyed identifier),
//	                                  signin/lockout.go (per-account lock), signin/source_limit.go
//	                                  (per-address sliding window), in the database;
//	                                  "Confirm it's you": signin/reauth.go
//	          prompt, max_age, acr    signin/continue.go; /consent: signin/consent.go, signin/consent_store.go
//	          browser sessions        signin/sessions.go (model), signin/session_store.go;
//	                                  /account: signin/account.go; /logout: signin/logout.go
//	        → /authorize/callback     flow.AuthFlow (flow/flow.go), implemented in provider/authflow.go
//	        → /end_session            provider/endsession.go (ends the session through flow.SessionEnder)
//	app     → /oauth/token            provider/server.go (client auth) →
//	                                  provider/grant_code.go, provider/grant_refresh.go (rotation and
//	                                  reuse detection; the reuse interval: provider/refresh_reuse.go),
//	                                  provider/grant_clientcreds.go, provider/grant_exchange.go (RFC 8693:
//	                                  API key or access token → token for an API, served before the library) →
//	                                  provider/issue.go (shared issuance), provider/accesstoken.go (RFC 9068);
//	                                  resource= (RFC 8707, on /authorize too): provider/resource.go
//	        → /oauth/introspect       provider/introspect.go (who may see a token: mayIntrospect)
//	        → /oauth/revoke           provider/revocation.go; the denylist: provider/revoked.go
//	        → /userinfo               provider/userinfo.go, provider/claims.go (claimsFor)
//	gateway → /forward-auth           provider/forward_auth.go (on Routes.Bearer: headers and a cached
//	                                  ≤5-minute JWT for the upstream, minted as grant_exchange.go does)
//	        → /keys, discovery        provider/discovery.go; keys: provider/keys*.go
//	        CORS (token, introspection, revocation, userinfo): provider/cors.go, from
//	                                  the redirect URIs' origins (clients/origins.go)
//	API     → /api/v1/clients         clients/http_api.go → clients/service.go, clients/store.go
//	        → /api/v1/resources       resources/http_api.go → resources/service.go (APIs: identifier,
//	                                  scopes, registered clients), resources/store.go
//	        → /api/v1/signing-keys    provider/keys_api.go
//	        → bearer tokens           provider/accesstoken_verify.go (AuthenticateBearer)
//
// Gatehouse, not zitadel/oidc, serves token, introspection, revocation and
// userinfo (provider/server.go says why); the op.Storage methods the library
// calls are in provider/storage.go, with the unreachable stubs of those four
// endpoints at its bottom.
//
// Packages: flow (the contract between the halves: AuthFlow, SessionEnder,
// PendingRequest, Authentication), signin (the browser side), provider (the
// OpenID Provider), clients (the client registry; the provider reads it
// through its own ClientLookup), resources (the API registry; the provider
// reads it through ResourceLookup), internal/secret (the one copy of the
// random-secret helpers), internal/oidctest (the one copy of the shared test
// fakes). signin and provider never import each other, and clients imports
// neither (internal/archtest).
package oidc

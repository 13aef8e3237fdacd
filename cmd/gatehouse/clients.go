package main

import (
	"encoding/json"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

type clientsCmd struct {
	Create clientsCreateCmd `cmd:"" help:"Register an OAuth client; prints its id and secret as JSON."`
}

type clientsCreateCmd struct {
	Name                  string   `required:"" help:"Client name."`
	RedirectURI           []string `name:"redirect-uri" sep:"none" help:"Redirect URI (repeat the flag for several; a comma is part of the URI)."`
	Public                bool     `help:"Public client (no secret; PKCE required)."`
	FirstParty            bool     `name:"first-party" help:"Skip consent."`
	GrantType             []string `name:"grant-type" help:"authorization_code, refresh_token, client_credentials, token_exchange (repeatable)."`
	Scope                 []string `help:"Allowed scope (repeatable)."`
	PostLogoutRedirectURI []string `name:"post-logout-redirect-uri" sep:"none" help:"Post-logout redirect URI (repeat the flag for several; a comma is part of the URI)."`
	NoRequirePKCE         bool     `name:"no-require-pkce" help:"Let this confidential (legacy) client use the code flow without PKCE; public clients always require it."`
	AccessTokenAlg        string   `name:"access-token-alg" enum:"ES256,RS256,EdDSA" default:"ES256" help:"Algorithm of the client's access tokens: ES256, RS256 or EdDSA."`
	PermissionsClaim      bool     `name:"permissions-claim" help:"Put the user's permissions in ID tokens, access tokens and userinfo (a \"permissions\" claim)."`
}

// clientCreated is the CLI's output: the secret only for confidential
// clients, never shown again.
type clientCreated struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// Run registers the client as the system principal (audited as actor
// "gatehouse") and prints {"client_id", "client_secret"} on stdout.
func (c *clientsCreateCmd) Run(e *env) error {
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	cl, secret, err := a.oidc.Clients().Create(ctx, clients.NewClient{
		Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: c.RedirectURI, PostLogoutRedirectURIs: c.PostLogoutRedirectURI,
		GrantTypes: c.GrantType, Scopes: c.Scope, PermissionsClaim: c.PermissionsClaim, AccessTokenAlg: c.AccessTokenAlg,
		RequirePKCE: new(!c.NoRequirePKCE),
	})
	if err != nil {
		return clientsCLIError(err)
	}
	return json.NewEncoder(e.stdout).Encode(clientCreated{ClientID: cl.ID, ClientSecret: secret})
}

// clientsCLIError names the flag a validation error is about.
func clientsCLIError(err error) error {
	ve, ok := validation.As(err)
	if !ok {
		return err
	}
	flag := map[string]string{
		"name": "--name", "redirect_uris": "--redirect-uri", "post_logout_redirect_uris": "--post-logout-redirect-uri",
		"grant_types": "--grant-type", "scopes": "--scope", "require_pkce": "--no-require-pkce",
		"access_token_alg": "--access-token-alg",
	}[ve.Field]
	if flag == "" {
		flag = ve.Field
	}
	return fmt.Errorf("%s: %s", flag, ve.Message)
}

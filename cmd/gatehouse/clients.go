package main

type clientsCmd struct {
	Create clientsCreateCmd `cmd:"" help:"Register an OAuth client; prints its id and secret as JSON."`
}

type clientsCreateCmd struct {
	Name                  string   `required:"" help:"Client name."`
	RedirectURI           []string `name:"redirect-uri" help:"Redirect URI (repeatable)."`
	Public                bool     `help:"Public client (no secret; PKCE required)."`
	FirstParty            bool     `name:"first-party" help:"Skip consent."`
	GrantType             []string `name:"grant-type" help:"authorization_code, refresh_token, client_credentials (repeatable)."`
	Scope                 []string `help:"Allowed scope (repeatable)."`
	PostLogoutRedirectURI []string `name:"post-logout-redirect-uri" help:"Post-logout redirect URI (repeatable)."`
}

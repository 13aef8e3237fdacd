package main

import (
	"encoding/json"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

type resourcesCmd struct {
	Create resourcesCreateCmd `cmd:"" help:"Register an API (resource server, RFC 8707); prints it as JSON."`
}

type resourcesCreateCmd struct {
	Identifier string   `required:"" help:"Absolute URI naming the API: the resource parameter and the aud of its tokens."`
	Name       string   `required:"" help:"API name."`
	Scope      []string `help:"A scope the API defines (repeatable)."`
	Client     []string `name:"client" help:"Id of a client registered for the API, which may introspect its tokens (repeatable)."`
}

// resourceCreated is the CLI's output.
type resourceCreated struct {
	ID         string   `json:"id"`
	Identifier string   `json:"identifier"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	ClientIDs  []string `json:"client_ids"`
}

// Run registers the API as the system principal (audited as actor
// "gatehouse") and prints it as JSON on stdout.
func (c *resourcesCreateCmd) Run(e *env) error {
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	r, err := a.oidc.Resources().Create(ctx, resources.NewResource{
		Identifier: c.Identifier, Name: c.Name, Scopes: c.Scope, ClientIDs: c.Client,
	})
	if ve, ok := validation.As(err); ok {
		flag := map[string]string{"identifier": "--identifier", "name": "--name", "scopes": "--scope", "client_ids": "--client"}[ve.Field]
		return fmt.Errorf("%s: %s", flag, ve.Message)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(resourceCreated{ID: r.ID, Identifier: r.Identifier, Name: r.Name,
		Scopes: r.Scopes, ClientIDs: r.ClientIDs})
}

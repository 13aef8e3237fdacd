package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

type resourcesCmd struct {
	Create resourcesCreateCmd `cmd:"" help:"Register an API (resource server, RFC 8707); prints it as JSON."`
	List   resourcesListCmd   `cmd:"" help:"Print the registered APIs, one JSON object a line."`
	Delete resourcesDeleteCmd `cmd:"" help:"Delete an API by identifier or id (tokens already issued for it verify until they expire)."`
}

type resourcesListCmd struct{}

type resourcesDeleteCmd struct {
	API string `arg:"" name:"identifier-or-id" help:"The API's identifier (URI) or id."`
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
	return json.NewEncoder(e.stdout).Encode(resourceJSON(r))
}

func resourceJSON(r resources.Resource) resourceCreated {
	return resourceCreated{ID: r.ID, Identifier: r.Identifier, Name: r.Name, Scopes: r.Scopes, ClientIDs: r.ClientIDs}
}

// Run prints every API, in creation order, one JSON object a line.
func (c *resourcesListCmd) Run(e *env) error {
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	enc := json.NewEncoder(e.stdout)
	token := ""
	for {
		l, err := a.oidc.Resources().List(ctx, 0, token)
		if err != nil {
			return err
		}
		for _, r := range l.Items {
			if err := enc.Encode(resourceJSON(r)); err != nil {
				return err
			}
		}
		if l.NextPageToken == "" {
			return nil
		}
		token = l.NextPageToken
	}
}

// Run deletes the API named by identifier (an absolute URI) or id, as the
// system principal (audited as actor "gatehouse").
func (c *resourcesDeleteCmd) Run(e *env) error {
	a, err := newApp(e.ctx, e.cfg, logging.Discard())
	if err != nil {
		return err
	}
	defer a.close()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	reg := a.oidc.Resources()
	id := c.API
	if resources.ValidateIdentifier(c.API) == nil {
		r, err := reg.ByIdentifier(ctx, c.API)
		if errors.Is(err, resources.ErrNotFound) {
			return fmt.Errorf("no API with identifier %q", c.API)
		}
		if err != nil {
			return err
		}
		id = r.ID
	}
	err = reg.Delete(ctx, id)
	if errors.Is(err, resources.ErrNotFound) {
		return fmt.Errorf("no API %q", c.API)
	}
	return err
}

package resources

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// Body is an API in responses.
type Body struct {
	ID         string    `json:"id"`
	Identifier string    `json:"identifier" doc:"Absolute URI: the resource parameter (RFC 8707) and the aud of tokens for this API."`
	Name       string    `json:"name"`
	Scopes     []string  `json:"scopes" doc:"Scopes the API defines; tokens for it carry at most these."`
	ClientIDs  []string  `json:"client_ids" doc:"Clients registered for the API: they may introspect its tokens."`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toBody(r Resource) Body {
	return Body{ID: r.ID, Identifier: r.Identifier, Name: r.Name, Scopes: nonNil(r.Scopes),
		ClientIDs: nonNil(r.ClientIDs), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type createInput struct {
	Body struct {
		Identifier string   `json:"identifier" minLength:"1" maxLength:"2000"`
		Name       string   `json:"name" minLength:"1" maxLength:"200"`
		Scopes     []string `json:"scopes,omitempty" maxItems:"100"`
		ClientIDs  []string `json:"client_ids,omitempty" maxItems:"100"`
	}
}

type patchInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name      *string   `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Scopes    *[]string `json:"scopes,omitempty" maxItems:"100" doc:"Replaces the API's scopes."`
		ClientIDs *[]string `json:"client_ids,omitempty" maxItems:"100" doc:"Replaces the clients registered for the API."`
	}
}

type idInput struct {
	ID string `path:"id" maxLength:"64"`
}

type output struct{ Body Body }

type listInput struct{ page.Query }

type listOutput struct{ Body page.Page[Body] }

type api struct {
	s     *Service
	authz Authorizer
}

// MountAPI puts /resources on the huma API (under /api/v1, bearer
// required); each operation asks authz for resources:<action>.
func MountAPI(hapi huma.API, s *Service, authz Authorizer) {
	a := api{s: s, authz: authz}
	tags := []string{"Resources"}
	huma.Register(hapi, huma.Operation{OperationID: "create-resource", Method: http.MethodPost, Path: "/resources",
		Summary: "Register an API (resource server)", Tags: tags, DefaultStatus: http.StatusCreated, MaxBodyBytes: 64 << 10}, a.create)
	huma.Register(hapi, huma.Operation{OperationID: "list-resources", Method: http.MethodGet, Path: "/resources",
		Summary: "List APIs", Tags: tags}, a.list)
	huma.Register(hapi, huma.Operation{OperationID: "get-resource", Method: http.MethodGet, Path: "/resources/{id}",
		Summary: "Get an API", Tags: tags}, a.get)
	huma.Register(hapi, huma.Operation{OperationID: "update-resource", Method: http.MethodPatch, Path: "/resources/{id}",
		Summary: "Update an API (name, scopes, registered clients; the identifier cannot change)", Tags: tags,
		MaxBodyBytes: 64 << 10}, a.patch)
	huma.Register(hapi, huma.Operation{OperationID: "delete-resource", Method: http.MethodDelete, Path: "/resources/{id}",
		Summary: "Delete an API", Tags: tags, DefaultStatus: http.StatusNoContent}, a.delete)
}

func (a api) can(ctx context.Context, id, action string) error {
	return httpserver.Require(ctx, a.authz, principal.Resource{Type: "resources", ID: id}, action)
}

func apiError(err error) error {
	if p, ok := httpserver.InputProblem(err); ok {
		return p
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("resource not found")
	case errors.Is(err, ErrIdentifierTaken):
		return huma.Error409Conflict("an API with this identifier is already registered")
	case errors.Is(err, ErrChanged):
		return huma.Error409Conflict("the API changed concurrently; read it again and retry")
	}
	return err
}

func (a api) create(ctx context.Context, in *createInput) (*output, error) {
	if err := a.can(ctx, "*", "create"); err != nil {
		return nil, err
	}
	r, err := a.s.Create(ctx, NewResource{Identifier: in.Body.Identifier, Name: in.Body.Name,
		Scopes: in.Body.Scopes, ClientIDs: in.Body.ClientIDs})
	if err != nil {
		return nil, apiError(err)
	}
	return &output{Body: toBody(r)}, nil
}

func (a api) list(ctx context.Context, in *listInput) (*listOutput, error) {
	if err := a.can(ctx, "*", "read"); err != nil {
		return nil, err
	}
	l, err := a.s.List(ctx, in.PageSize, in.PageToken)
	if err != nil {
		return nil, apiError(err)
	}
	return &listOutput{Body: page.Map(l, toBody)}, nil
}

func (a api) get(ctx context.Context, in *idInput) (*output, error) {
	if err := a.can(ctx, in.ID, "read"); err != nil {
		return nil, err
	}
	r, err := a.s.Get(ctx, in.ID)
	if err != nil {
		return nil, apiError(err)
	}
	return &output{Body: toBody(r)}, nil
}

func (a api) patch(ctx context.Context, in *patchInput) (*output, error) {
	if err := a.can(ctx, in.ID, "update"); err != nil {
		return nil, err
	}
	r, err := a.s.Update(ctx, in.ID, Update{Name: in.Body.Name, Scopes: in.Body.Scopes, ClientIDs: in.Body.ClientIDs})
	if err != nil {
		return nil, apiError(err)
	}
	return &output{Body: toBody(r)}, nil
}

func (a api) delete(ctx context.Context, in *idInput) (*struct{}, error) {
	if err := a.can(ctx, in.ID, "delete"); err != nil {
		return nil, err
	}
	if err := a.s.Delete(ctx, in.ID); err != nil {
		return nil, apiError(err)
	}
	return nil, nil
}

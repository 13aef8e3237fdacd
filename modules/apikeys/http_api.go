package apikeys

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// APIKeyBody is an API key in API responses. It never carries the secret or
// its hash. (Body types carry the module's name: huma names OpenAPI schemas
// after Go types, and names must be unique across modules.)
type APIKeyBody struct {
	ID     string `json:"id"`
	Prefix string `json:"prefix" doc:"The key's first characters (gh_ and its public id), to recognise it."`
	UserID string `json:"user_id" doc:"Owner: a user or a service account."`
	Name   string `json:"name"`
	// Scopes is empty when the key carries its owner's full rights.
	Scopes     []string   `json:"scopes" doc:"<type>:<action> scopes; empty means the owner's full rights."`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastUsedAt *time.Time `json:"last_used_at" doc:"Updated in batches, up to about 10 seconds late."`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toBody(k Key) APIKeyBody {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return APIKeyBody{
		ID: k.ID, Prefix: Prefix + k.PublicID, UserID: k.UserID, Name: k.Name, Scopes: scopes,
		ExpiresAt: k.ExpiresAt, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
	}
}

type apiKeyCreateBody struct {
	Name      string     `json:"name" minLength:"1" maxLength:"100" doc:"A label for the key."`
	Scopes    []string   `json:"scopes,omitempty" maxItems:"50" doc:"Scopes (<type>:<action>, * allowed); omitted: the owner's full rights (or, from a scoped credential, its scopes)."`
	ExpiresIn string     `json:"expires_in,omitempty" maxLength:"32" doc:"Lifetime as a Go duration, e.g. 720h."`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"Expiry time (RFC 3339); exclusive with expires_in."`
	UserID    string     `json:"user_id,omitempty" maxLength:"64" doc:"Owner; default the caller. Creating for someone else needs permission."`
}

type createInput struct {
	Body apiKeyCreateBody
}

type apiKeyCreatedBody struct {
	APIKeyBody
	Secret string `json:"secret" doc:"The key itself. Shown only in this response."`
}

type createOutput struct {
	Body apiKeyCreatedBody
}

type listInput struct {
	UserID         string `query:"user_id" maxLength:"64" doc:"Whose keys; default the caller."`
	IncludeRevoked bool   `query:"include_revoked" doc:"Also list revoked keys."`
	page.Query
}

type listOutput struct {
	Body page.Page[APIKeyBody]
}

type idInput struct {
	ID string `path:"id" maxLength:"64"`
}

type keyOutput struct {
	Body APIKeyBody
}

// createBodyLimit is generous for a name and 50 scopes.
const createBodyLimit = 16 << 10

type api struct {
	svc   *Service
	authz Authorizer
}

func registerAPI(hapi huma.API, svc *Service, authz Authorizer) {
	a := api{svc: svc, authz: authz}
	tags := []string{"API keys"}
	huma.Register(hapi, huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: "/api-keys",
		Summary: "Create an API key (the secret is returned once)", Tags: tags,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: createBodyLimit,
	}, a.create)
	huma.Register(hapi, huma.Operation{
		OperationID: "list-api-keys", Method: http.MethodGet, Path: "/api-keys",
		Summary: "List a user's API keys, newest first", Tags: tags,
	}, a.list)
	huma.Register(hapi, huma.Operation{
		OperationID: "get-api-key", Method: http.MethodGet, Path: "/api-keys/{id}",
		Summary: "Get an API key", Tags: tags,
	}, a.get)
	huma.Register(hapi, huma.Operation{
		OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/api-keys/{id}",
		Summary: "Revoke an API key (revoking a revoked key succeeds)", Tags: tags,
		DefaultStatus: http.StatusNoContent,
	}, a.revoke)
	registerServiceAccounts(hapi, a)
}

func (a api) can(ctx context.Context, res principal.Resource, action string) error {
	return httpserver.Require(ctx, a.authz, res, action)
}

// owner is the user id a request is about: the given one or the caller.
func owner(ctx context.Context, given, field string) (string, error) {
	if given != "" {
		return given, nil
	}
	p, _ := principal.From(ctx)
	if !p.IsUser() {
		return "", fieldError(field, "is required when the caller is not a user", "")
	}
	return p.ID, nil
}

func (a api) create(ctx context.Context, in *createInput) (*createOutput, error) {
	ownerID, err := owner(ctx, in.Body.UserID, "body.user_id")
	if err != nil {
		return nil, err
	}
	if err := a.can(ctx, principal.Resource{Type: "api-keys", ID: "*", OwnerID: ownerID}, "create"); err != nil {
		return nil, err
	}
	n := NewKey{UserID: ownerID, Name: in.Body.Name, Scopes: in.Body.Scopes, ExpiresAt: in.Body.ExpiresAt}
	if in.Body.ExpiresIn != "" {
		if in.Body.ExpiresAt != nil {
			return nil, fieldError("body.expires_in", "give expires_in or expires_at, not both", in.Body.ExpiresIn)
		}
		d, err := time.ParseDuration(in.Body.ExpiresIn)
		if err != nil || d <= 0 {
			return nil, fieldError("body.expires_in", "must be a positive duration such as 720h or 90m", in.Body.ExpiresIn)
		}
		at := a.svc.opts.Now().Add(d)
		n.ExpiresAt = &at
	}
	c, err := a.svc.Create(ctx, n)
	if err != nil {
		return nil, httpError(err)
	}
	out := &createOutput{}
	out.Body.APIKeyBody = toBody(c.Key)
	out.Body.Secret = c.Secret
	return out, nil
}

func (a api) list(ctx context.Context, in *listInput) (*listOutput, error) {
	ownerID, err := owner(ctx, in.UserID, "query.user_id")
	if err != nil {
		return nil, err
	}
	if err := a.can(ctx, principal.Resource{Type: "api-keys", ID: "*", OwnerID: ownerID}, "read"); err != nil {
		return nil, err
	}
	keys, err := a.svc.List(ctx, Filter{UserID: ownerID, IncludeRevoked: in.IncludeRevoked, PageSize: in.PageSize, PageToken: in.PageToken})
	if err != nil {
		return nil, httpError(err)
	}
	return &listOutput{Body: page.Map(keys, toBody)}, nil
}

func (a api) get(ctx context.Context, in *idInput) (*keyOutput, error) {
	k, err := a.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, httpError(err)
	}
	if err := a.can(ctx, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "read"); err != nil {
		return nil, err
	}
	return &keyOutput{Body: toBody(k)}, nil
}

func (a api) revoke(ctx context.Context, in *idInput) (*struct{}, error) {
	k, err := a.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, httpError(err)
	}
	if err := a.can(ctx, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "delete"); err != nil {
		return nil, err
	}
	if _, err := a.svc.Revoke(ctx, k.ID); err != nil {
		return nil, httpError(err)
	}
	return nil, nil
}

// httpError maps this module's (and identity's) errors to problem responses.
func httpError(err error) error {
	if p, ok := httpserver.InputProblem(err); ok {
		return p
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("no such API key")
	case errors.Is(err, ErrOwnerNotFound):
		return fieldError("body.user_id", "no such user", "")
	case errors.Is(err, ErrOwnerDisabled):
		return fieldError("body.user_id", "the user is disabled", "")
	case errors.Is(err, ErrScopeEscalation):
		return huma.Error403Forbidden("a key cannot have scopes beyond those of the credential creating it")
	case errors.Is(err, identity.ErrEmailTaken):
		return huma.Error409Conflict("email is already in use")
	}
	return err
}

func fieldError(location, msg, value string) error {
	d := &huma.ErrorDetail{Location: location, Message: msg}
	if value != "" {
		d.Value = value
	}
	return huma.Error422UnprocessableEntity(location+": "+msg, d)
}

package clients

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

// ClientBody is a client in API responses. It never carries a secret.
type ClientBody struct {
	ID                       string    `json:"client_id"`
	Name                     string    `json:"name"`
	Public                   bool      `json:"public" doc:"No secret; PKCE required."`
	FirstParty               bool      `json:"first_party" doc:"Consent is skipped."`
	RedirectURIs             []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string  `json:"post_logout_redirect_uris"`
	GrantTypes               []string  `json:"grant_types"`
	Scopes                   []string  `json:"scopes" doc:"Allowed scopes; empty: openid profile email roles offline_access."`
	AccessTokenTTL           int64     `json:"access_token_ttl" doc:"Seconds; 0 = default (600)."`
	IDTokenTTL               int64     `json:"id_token_ttl" doc:"Seconds; 0 = default (3600)."`
	RefreshTokenTTL          int64     `json:"refresh_token_ttl" doc:"Absolute lifetime in seconds; 0 = default (30 days)."`
	RefreshTokenIdleTTL      int64     `json:"refresh_token_idle_ttl" doc:"Idle lifetime in seconds; 0 = default (7 days)."`
	IDTokenSignedResponseAlg string    `json:"id_token_signed_response_alg" enum:"RS256,ES256"`
	AccessTokenAlg           string    `json:"access_token_alg" enum:"ES256,RS256,EdDSA" doc:"Signs the client's JWT access tokens (RFC 9068); the keys are in the JWKS."`
	TokenEndpointAuthMethod  string    `json:"token_endpoint_auth_method"`
	PermissionsClaim         bool      `json:"permissions_claim" doc:"Tokens and userinfo carry a permissions claim: the user's allowed \"<resource>#<action>\" pairs at issuance."`
	RequirePKCE              bool      `json:"require_pkce" doc:"Authorization requests must carry a code_challenge (S256); always true for public clients."`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

func toClientBody(c Client) ClientBody {
	method := "client_secret_basic"
	if c.Public {
		method = "none"
	}
	return ClientBody{
		ID: c.ID, Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes),
		AccessTokenTTL: int64(c.AccessTokenTTL / time.Second), IDTokenTTL: int64(c.IDTokenTTL / time.Second),
		RefreshTokenTTL: int64(c.RefreshTokenTTL / time.Second), RefreshTokenIdleTTL: int64(c.RefreshTokenIdleTTL / time.Second),
		IDTokenSignedResponseAlg: c.IDTokenAlg, AccessTokenAlg: c.AccessTokenAlg, TokenEndpointAuthMethod: method, PermissionsClaim: c.PermissionsClaim,
		RequirePKCE: c.RequirePKCE, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type createClientInput struct {
	Body struct {
		Name                     string   `json:"name" minLength:"1" maxLength:"200"`
		Public                   bool     `json:"public,omitempty"`
		FirstParty               bool     `json:"first_party,omitempty"`
		RedirectURIs             []string `json:"redirect_uris,omitempty" maxItems:"50"`
		PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty" maxItems:"50"`
		GrantTypes               []string `json:"grant_types,omitempty" maxItems:"4" doc:"authorization_code, refresh_token, client_credentials, token_exchange; default the first two."`
		Scopes                   []string `json:"scopes,omitempty" maxItems:"100"`
		AccessTokenTTL           int64    `json:"access_token_ttl,omitempty" minimum:"0" maximum:"86400"`
		IDTokenTTL               int64    `json:"id_token_ttl,omitempty" minimum:"0" maximum:"86400"`
		RefreshTokenTTL          int64    `json:"refresh_token_ttl,omitempty" minimum:"0" maximum:"31536000"`
		RefreshTokenIdleTTL      int64    `json:"refresh_token_idle_ttl,omitempty" minimum:"0" maximum:"31536000"`
		IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty" enum:"RS256,ES256"`
		AccessTokenAlg           string   `json:"access_token_alg,omitempty" enum:"ES256,RS256,EdDSA" doc:"Signs the client's access tokens; default ES256."`
		PermissionsClaim         bool     `json:"permissions_claim,omitempty" doc:"Put the user's permissions in tokens and userinfo."`
		RequirePKCE              *bool    `json:"require_pkce,omitempty" doc:"Default true; false lets a confidential (legacy) client use the code flow without PKCE."`
	}
}

type createClientOutput struct {
	Body struct {
		ClientBody
		ClientSecret string `json:"client_secret,omitempty" doc:"Shown only in this response; absent for public clients."`
	}
}

type patchClientInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name                     *string   `json:"name,omitempty" minLength:"1" maxLength:"200"`
		FirstParty               *bool     `json:"first_party,omitempty"`
		RedirectURIs             *[]string `json:"redirect_uris,omitempty" maxItems:"50"`
		PostLogoutRedirectURIs   *[]string `json:"post_logout_redirect_uris,omitempty" maxItems:"50"`
		GrantTypes               *[]string `json:"grant_types,omitempty" maxItems:"4"`
		Scopes                   *[]string `json:"scopes,omitempty" maxItems:"100"`
		AccessTokenTTL           *int64    `json:"access_token_ttl,omitempty" minimum:"0" maximum:"86400"`
		IDTokenTTL               *int64    `json:"id_token_ttl,omitempty" minimum:"0" maximum:"86400"`
		RefreshTokenTTL          *int64    `json:"refresh_token_ttl,omitempty" minimum:"0" maximum:"31536000"`
		RefreshTokenIdleTTL      *int64    `json:"refresh_token_idle_ttl,omitempty" minimum:"0" maximum:"31536000"`
		IDTokenSignedResponseAlg *string   `json:"id_token_signed_response_alg,omitempty" enum:"RS256,ES256"`
		AccessTokenAlg           *string   `json:"access_token_alg,omitempty" enum:"ES256,RS256,EdDSA"`
		PermissionsClaim         *bool     `json:"permissions_claim,omitempty"`
		RequirePKCE              *bool     `json:"require_pkce,omitempty"`
	}
}

type clientIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type clientOutput struct{ Body ClientBody }

type listClientsInput struct {
	page.Query
}

type listClientsOutput struct {
	Body page.Page[ClientBody]
}

type rotateSecretInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		OverlapSeconds *int64 `json:"overlap_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"How long the previous secret keeps working; default 86400."`
	}
}

type rotateSecretOutput struct {
	Body struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret" doc:"Shown only in this response."`
	}
}

const clientBodyLimit = 64 << 10

type clientsAPI struct {
	s     *Service
	authz Authorizer
}

// MountAPI puts /clients on the huma API (mounted under /api/v1, bearer
// required); each operation asks authz for clients:<action>.
func MountAPI(hapi huma.API, s *Service, authz Authorizer) {
	a := clientsAPI{s: s, authz: authz}
	tags := []string{"Clients"}
	huma.Register(hapi, huma.Operation{OperationID: "create-client", Method: http.MethodPost, Path: "/clients",
		Summary: "Register an OAuth client (the secret is returned once)", Tags: tags,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: clientBodyLimit}, a.create)
	huma.Register(hapi, huma.Operation{OperationID: "list-clients", Method: http.MethodGet, Path: "/clients",
		Summary: "List clients", Tags: tags}, a.list)
	huma.Register(hapi, huma.Operation{OperationID: "get-client", Method: http.MethodGet, Path: "/clients/{id}",
		Summary: "Get a client", Tags: tags}, a.get)
	huma.Register(hapi, huma.Operation{OperationID: "update-client", Method: http.MethodPatch, Path: "/clients/{id}",
		Summary: "Update a client", Tags: tags, MaxBodyBytes: clientBodyLimit}, a.patch)
	huma.Register(hapi, huma.Operation{OperationID: "delete-client", Method: http.MethodDelete, Path: "/clients/{id}",
		Summary: "Delete a client", Tags: tags, DefaultStatus: http.StatusNoContent}, a.delete)
	huma.Register(hapi, huma.Operation{OperationID: "rotate-client-secret", Method: http.MethodPost, Path: "/clients/{id}/secret",
		Summary: "Issue a new client secret (the old one keeps working for the overlap window)", Tags: tags,
		MaxBodyBytes: 1 << 10}, a.rotateSecret)
}

func (a clientsAPI) can(ctx context.Context, res principal.Resource, action string) error {
	return httpserver.Require(ctx, a.authz, res, action)
}

// apiError maps the module's errors to problem responses.
func apiError(err error) error {
	if p, ok := httpserver.InputProblem(err); ok {
		return p
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("client not found")
	}
	return err
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func (a clientsAPI) create(ctx context.Context, in *createClientInput) (*createClientOutput, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: "*"}, "create"); err != nil {
		return nil, err
	}
	b := in.Body
	c, secret, err := a.s.Create(ctx, NewClient{
		Name: b.Name, Public: b.Public, FirstParty: b.FirstParty,
		RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs,
		GrantTypes: b.GrantTypes, Scopes: b.Scopes,
		AccessTokenTTL: secs(b.AccessTokenTTL), IDTokenTTL: secs(b.IDTokenTTL),
		RefreshTokenTTL: secs(b.RefreshTokenTTL), RefreshTokenIdleTTL: secs(b.RefreshTokenIdleTTL),
		IDTokenAlg: b.IDTokenSignedResponseAlg, AccessTokenAlg: b.AccessTokenAlg, PermissionsClaim: b.PermissionsClaim, RequirePKCE: b.RequirePKCE,
	})
	if err != nil {
		return nil, apiError(err)
	}
	out := &createClientOutput{}
	out.Body.ClientBody = toClientBody(c)
	out.Body.ClientSecret = secret
	return out, nil
}

func (a clientsAPI) list(ctx context.Context, in *listClientsInput) (*listClientsOutput, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: "*"}, "read"); err != nil {
		return nil, err
	}
	list, err := a.s.List(ctx, in.PageSize, in.PageToken)
	if err != nil {
		return nil, apiError(err)
	}
	return &listClientsOutput{Body: page.Map(list, toClientBody)}, nil
}

func (a clientsAPI) get(ctx context.Context, in *clientIDInput) (*clientOutput, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: in.ID}, "read"); err != nil {
		return nil, err
	}
	c, err := a.s.Get(ctx, in.ID)
	if err != nil {
		return nil, apiError(err)
	}
	return &clientOutput{Body: toClientBody(c)}, nil
}

func (a clientsAPI) patch(ctx context.Context, in *patchClientInput) (*clientOutput, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: in.ID}, "update"); err != nil {
		return nil, err
	}
	b := in.Body
	u := ClientUpdate{Name: b.Name, FirstParty: b.FirstParty, RedirectURIs: b.RedirectURIs,
		PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, GrantTypes: b.GrantTypes, Scopes: b.Scopes,
		IDTokenAlg: b.IDTokenSignedResponseAlg, AccessTokenAlg: b.AccessTokenAlg, PermissionsClaim: b.PermissionsClaim, RequirePKCE: b.RequirePKCE}
	dur := func(n *int64) *time.Duration {
		if n == nil {
			return nil
		}
		d := secs(*n)
		return &d
	}
	u.AccessTokenTTL, u.IDTokenTTL = dur(b.AccessTokenTTL), dur(b.IDTokenTTL)
	u.RefreshTokenTTL, u.RefreshTokenIdleTTL = dur(b.RefreshTokenTTL), dur(b.RefreshTokenIdleTTL)
	c, err := a.s.Update(ctx, in.ID, u)
	if err != nil {
		return nil, apiError(err)
	}
	return &clientOutput{Body: toClientBody(c)}, nil
}

func (a clientsAPI) delete(ctx context.Context, in *clientIDInput) (*struct{}, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: in.ID}, "delete"); err != nil {
		return nil, err
	}
	if err := a.s.Delete(ctx, in.ID); err != nil {
		return nil, apiError(err)
	}
	return nil, nil
}

func (a clientsAPI) rotateSecret(ctx context.Context, in *rotateSecretInput) (*rotateSecretOutput, error) {
	if err := a.can(ctx, principal.Resource{Type: "clients", ID: in.ID}, "rotate"); err != nil {
		return nil, err
	}
	overlap := time.Duration(0)
	if in.Body != nil && in.Body.OverlapSeconds != nil {
		overlap = secs(*in.Body.OverlapSeconds)
		if overlap == 0 {
			overlap = -1 // explicit 0: the old secret stops at once
		}
	}
	secret, err := a.s.RotateSecret(ctx, in.ID, overlap)
	if err != nil {
		return nil, apiError(err)
	}
	out := &rotateSecretOutput{}
	out.Body.ClientID, out.Body.ClientSecret = in.ID, secret
	return out, nil
}

package provider

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
)

type rotateKeysOutput struct {
	Body struct {
		Keys []keyBody `json:"keys"`
	}
}

type keyBody struct {
	KID       string     `json:"kid"`
	Alg       string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
	ExpiresAt *time.Time `json:"expires_at" doc:"When a retired key leaves the JWKS."`
}

// mountAPI puts /signing-keys/rotate on the huma API (under /api/v1).
func (p *Provider) mountAPI(hapi huma.API) {
	huma.Register(hapi, huma.Operation{OperationID: "rotate-signing-keys", Method: http.MethodPost, Path: "/signing-keys/rotate",
		Summary: "Rotate the token signing keys now", Tags: []string{"Signing keys"}}, p.rotateKeysAPI)
}

// rotateKeysAPI needs signing-keys:rotate; it answers the published keys.
func (p *Provider) rotateKeysAPI(ctx context.Context, _ *struct{}) (*rotateKeysOutput, error) {
	if err := httpserver.Require(ctx, p.authz, principal.Resource{Type: "signing-keys", ID: "*"}, "rotate"); err != nil {
		return nil, err
	}
	if err := p.RotateSigningKeys(ctx); err != nil {
		return nil, err
	}
	out := &rotateKeysOutput{}
	out.Body.Keys = []keyBody{}
	for _, k := range p.keys.published() {
		out.Body.Keys = append(out.Body.Keys, keyBody{KID: k.id, Alg: string(k.alg), CreatedAt: k.createdAt, RetiredAt: k.retiredAt, ExpiresAt: k.expiresAt})
	}
	return out, nil
}

// SigningKey describes a published token signing key, never its private
// part: what the console lists.
type SigningKey struct {
	KID       string
	Alg       string
	CreatedAt time.Time
	RetiredAt *time.Time // nil while the key signs new tokens
	ExpiresAt *time.Time // when a retired key leaves the JWKS
}

// SigningKeys lists the published keys, newest first.
func (p *Provider) SigningKeys() []SigningKey {
	var out []SigningKey
	for _, k := range p.keys.published() {
		out = append(out, SigningKey{KID: k.id, Alg: string(k.alg), CreatedAt: k.createdAt, RetiredAt: k.retiredAt, ExpiresAt: k.expiresAt})
	}
	return out
}

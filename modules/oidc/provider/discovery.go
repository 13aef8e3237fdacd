package provider

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// renderDiscovery renders the discovery document once (the issuer is
// static), from the library's configuration, trimmed to what we serve.
func (p *Provider) renderDiscovery() error {
	ctx := op.ContextWithIssuer(context.Background(), p.issuer)
	resp, err := op.NewLegacyServer(p.op, endpoints).Discovery(ctx, &op.Request[struct{}]{})
	if err != nil {
		return err
	}
	d := resp.Data.(*oidc.DiscoveryConfiguration)
	d.GrantTypesSupported = grantTypesSupported
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	// form_post works for successful responses, but the pages' error
	// redirects (failRequest) are query-only, so only query is advertised.
	d.ResponseModesSupported = []string{"query"}
	d.DeviceAuthorizationEndpoint = ""
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.ClaimsParameterSupported = false
	d.RequestURIParameterSupported = false
	d.UserinfoSigningAlgValuesSupported = nil
	d.ACRValuesSupported = []string{flow.ACRPassword, flow.ACRPhishingResistant}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	p.discovery = b
	return nil
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	if p.discovery == nil {
		http.Error(w, "provider not initialised", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.discovery)
}

// serveKeys answers the JWKS from the key manager's cached bytes; the short
// max-age lets clients see a rotation quickly.
func (p *Provider) serveKeys(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.keys.jwks())
}

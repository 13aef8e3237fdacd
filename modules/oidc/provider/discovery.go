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
	// It names the JWKS by URL only, so it does not change when keys
	// rotate: an hour's max-age.
	p.discovery = newDocument(b, "application/json", "public, max-age=3600")
	return nil
}

// serveDiscovery answers the discovery document.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if p.discovery == nil {
		http.Error(w, "provider not initialised", http.StatusServiceUnavailable)
		return
	}
	p.discovery.serve(w, r)
}

// serveKeys answers the JWKS the key manager rebuilt at its last load (a
// rotation here or on another replica, the background RS256 key landing,
// or the periodic refresh; keys_store.go).
func (p *Provider) serveKeys(w http.ResponseWriter, r *http.Request) {
	p.keys.jwks().serve(w, r)
}

package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAPIKey    = "urn:gatehouse:params:oauth:token-type:api-key"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// TestTokenExchangeAndIntrospectionLimits: an API key becomes a ≤5-minute
// JWT for a registered API (x/oauth2 and raw HTTP); only the client it was
// issued to and the clients registered for the API see it active; a client
// without the grant is unauthorized_client, a disabled user's key
// invalid_grant.
func TestTokenExchangeAndIntrospectionLimits(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	userID := createUser(t, srv, "tx-user@example.com", "correct horse battery")
	key := createAPIKey(t, srv, "tx-user@example.com", "tx", "--scope", "*:read")
	gw := createOIDCClient(t, srv, "--name", "gateway", "--grant-type", "token_exchange")
	rs := createOIDCClient(t, srv, "--name", "invoices-api", "--grant-type", "client_credentials")
	other := createOIDCClient(t, srv, "--name", "other", "--grant-type", "client_credentials")
	res := createResource(t, srv, "--identifier", gatewayAPI, "--name", "Invoices",
		"--scope", "invoices:read", "--scope", "invoices:write", "--client", rs.ID)
	if res["identifier"] != gatewayAPI {
		t.Fatalf("resources create printed %v", res)
	}
	p := newProvider(t, srv)
	tokenURL, introURL, _ := endpoints(t, p)

	// x/oauth2: the client-credentials flow carries any grant_type.
	cfg := clientcredentials.Config{ClientID: gw.ID, ClientSecret: gw.Secret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader,
		EndpointParams: url.Values{"grant_type": {grantTokenExchange}, "subject_token": {key},
			"subject_token_type": {tokenTypeAPIKey}, "resource": {gatewayAPI}}}
	tok, err := cfg.Token(ctxTimeout(t))
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	if tok.Extra("issued_token_type") != tokenTypeAccess {
		t.Errorf("issued_token_type %v", tok.Extra("issued_token_type"))
	}
	h, c := jwtParts(t, tok.AccessToken)
	if h["typ"] != "at+jwt" || c["sub"] != userID || c["client_id"] != gw.ID || c["scope"] != "invoices:read" ||
		!slices.Equal(claimStrings(c["aud"]), []string{gatewayAPI}) {
		t.Errorf("header %v claims %v", h, c)
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat > 300 {
		t.Errorf("the exchanged token lives %v s, want at most 300", exp-iat)
	}

	// Introspection (RFC 7662 §4).
	for _, tc := range []struct {
		name   string
		c      oidcClient
		active bool
	}{{"issued to", gw, true}, {"registered for the API", rs, true}, {"another client", other, false}} {
		if m := introspect(t, introURL, tc.c, tok.AccessToken); isActive(m) != tc.active {
			t.Errorf("%s: introspection %v, want active=%v", tc.name, m, tc.active)
		}
	}

	// Raw HTTP: an access token as subject, audience instead of resource.
	r := postForm(t, tokenURL, url.Values{"grant_type": {grantTokenExchange}, "subject_token": {tok.AccessToken},
		"subject_token_type": {tokenTypeAccess}, "audience": {gatewayAPI}}, gw.ID, gw.Secret)
	r.expect(t, http.StatusOK)

	// A client without the grant.
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {grantTokenExchange}, "subject_token": {key},
		"subject_token_type": {tokenTypeAPIKey}, "resource": {gatewayAPI}}, other.ID, other.Secret),
		http.StatusBadRequest, "unauthorized_client")
	// An unknown API.
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {grantTokenExchange}, "subject_token": {key},
		"subject_token_type": {tokenTypeAPIKey}, "resource": {"https://nope.example.com"}}, gw.ID, gw.Secret),
		http.StatusBadRequest, "invalid_target")

	// The key of a disabled user.
	bobID := createUser(t, srv, "tx-bob@example.com", "correct horse battery")
	bobKey := createAPIKey(t, srv, "tx-bob@example.com", "bob")
	api(srv, srv.AdminKey(t)).do(t, http.MethodPatch, "/users/"+bobID, map[string]any{"status": "disabled"}).expect(t, http.StatusOK)
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {grantTokenExchange}, "subject_token": {bobKey},
		"subject_token_type": {tokenTypeAPIKey}, "resource": {gatewayAPI}}, gw.ID, gw.Secret),
		http.StatusBadRequest, "invalid_grant")

	// The API is listed by the admin API.
	var list struct {
		Items []struct {
			Identifier string   `json:"identifier"`
			ClientIDs  []string `json:"client_ids"`
		} `json:"items"`
	}
	api(srv, srv.AdminKey(t)).get(t, "/resources").expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Identifier != gatewayAPI || !slices.Equal(list.Items[0].ClientIDs, []string{rs.ID}) {
		t.Errorf("GET /api/v1/resources: %+v", list)
	}
}

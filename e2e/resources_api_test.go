package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"golang.org/x/oauth2"
)

// TestResourcesPatch: PATCH /api/v1/resources/{id} changes an API's name,
// scopes and registered clients (admin only; validated as on create;
// audited), and the token path uses the new scopes and clients at once; on
// SQLite and PostgreSQL.
func TestResourcesPatch(t *testing.T) {
	t.Parallel()
	forEachDB(t, testResourcesPatch)
}

func testResourcesPatch(t *testing.T, db dbKind) {
	srv := startServer(t, serverOpts{DB: db})
	admin := api(srv, srv.AdminKey(t))
	createUser(t, srv, "res-auditor@example.com", "correct horse battery", "auditor")
	auditor := api(srv, createAPIKey(t, srv, "res-auditor@example.com", "audit"))
	svc := createOIDCClient(t, srv, "--name", "svc", "--grant-type", "client_credentials",
		"--scope", "invoices:read", "--scope", "invoices:write")
	rs := createOIDCClient(t, srv, "--name", "invoices-api", "--grant-type", "client_credentials")
	const ident = "https://patch.example.com"

	type body struct {
		ID         string   `json:"id"`
		Identifier string   `json:"identifier"`
		Name       string   `json:"name"`
		Scopes     []string `json:"scopes"`
		ClientIDs  []string `json:"client_ids"`
	}
	var created body
	admin.do(t, http.MethodPost, "/resources", map[string]any{"identifier": ident, "name": "Invoices",
		"scopes": []string{"invoices:read"}}).expect(t, http.StatusCreated).decode(t, &created)

	p := newProvider(t, srv)
	tokenURL, introURL, _ := endpoints(t, p)
	ccToken := func() string {
		t.Helper()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "resource": {ident},
			"scope": {"invoices:read invoices:write"}}, svc.ID, svc.Secret)
		r.expect(t, http.StatusOK)
		r.decode(t, &tok)
		return tok.AccessToken
	}
	if _, c := jwtParts(t, ccToken()); c["scope"] != "invoices:read" {
		t.Fatalf("before the update: scope %v", c["scope"])
	}
	if isActive(introspect(t, introURL, rs, ccToken())) {
		t.Fatalf("an unregistered client saw the token active")
	}

	path := "/resources/" + created.ID
	patch := map[string]any{"name": "Billing", "scopes": []string{"invoices:read", "invoices:write"}, "client_ids": []string{rs.ID}}
	assertProblem(t, auditor.do(t, http.MethodPatch, path, patch), http.StatusForbidden)
	assertProblem(t, admin.do(t, http.MethodPatch, path, map[string]any{"scopes": []string{"two words"}}), http.StatusUnprocessableEntity, "scopes")
	assertProblem(t, admin.do(t, http.MethodPatch, path, map[string]any{"name": ""}), http.StatusUnprocessableEntity)
	assertProblem(t, admin.do(t, http.MethodPatch, "/resources/nope", patch), http.StatusNotFound)

	var got body
	admin.do(t, http.MethodPatch, path, patch).expect(t, http.StatusOK).decode(t, &got)
	if got.Identifier != ident || got.Name != "Billing" || !slices.Equal(got.Scopes, []string{"invoices:read", "invoices:write"}) ||
		!slices.Equal(got.ClientIDs, []string{rs.ID}) {
		t.Errorf("PATCH answered %+v", got)
	}
	// Only name: the lists stay.
	admin.do(t, http.MethodPatch, path, map[string]any{"name": "Billing API"}).expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "Billing API" || len(got.Scopes) != 2 || len(got.ClientIDs) != 1 {
		t.Errorf("PATCH name only answered %+v", got)
	}

	tok := ccToken()
	if _, c := jwtParts(t, tok); c["scope"] != "invoices:read invoices:write" {
		t.Errorf("after the update: scope %v, want both", c["scope"])
	}
	if !isActive(introspect(t, introURL, rs, tok)) {
		t.Errorf("the newly registered client does not see the token active")
	}

	var events struct {
		Items []struct {
			Action string `json:"action"`
			Target struct {
				ID string `json:"id"`
			} `json:"target"`
		} `json:"items"`
	}
	admin.get(t, "/audit-events?action=resource.update").expect(t, http.StatusOK).decode(t, &events)
	if len(events.Items) != 2 || events.Items[0].Target.ID != created.ID || events.Items[1].Target.ID != created.ID {
		t.Errorf("resource.update events: %+v", events.Items)
	}
}

// TestRefreshKeepsResource: a refresh token of an authorization request
// with resource=<API> gives access tokens for that API (aud, the API's
// scopes) without repeating resource=, across rotations; naming another
// API on the refresh is invalid_target (RFC 8707 §2.2); on SQLite and
// PostgreSQL.
func TestRefreshKeepsResource(t *testing.T) {
	t.Parallel()
	forEachDB(t, testRefreshKeepsResource)
}

func testRefreshKeepsResource(t *testing.T, db dbKind) {
	srv := startServer(t, serverOpts{DB: db})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party",
		"--scope", "openid", "--scope", "offline_access", "--scope", "invoices:read")
	createResource(t, srv, "--identifier", gatewayAPI, "--name", "Invoices", "--scope", "invoices:read")
	createResource(t, srv, "--identifier", "https://other.example.com", "--name", "Other", "--scope", "invoices:read")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "rr@example.com", password)
	p := newProvider(t, srv)
	tokenURL, _, _ := endpoints(t, p)

	cfg := oauthConfig(p, client, "openid", "offline_access", "invoices:read")
	ar := newAuthRequest(cfg, oauth2.SetAuthURLParam("resource", gatewayAPI))
	code := codeFrom(t, newUserAgent(t, srv).signIn(ar.URL, "rr@example.com", password).Query(), ar.State)
	tok, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	check := func(what, access string) {
		t.Helper()
		_, c := jwtParts(t, access)
		if !slices.Equal(claimStrings(c["aud"]), []string{gatewayAPI}) || c["scope"] != "invoices:read" {
			t.Errorf("%s: aud %v scope %v, want %s and invoices:read", what, c["aud"], c["scope"], gatewayAPI)
		}
	}
	check("code exchange", tok.AccessToken)
	rt := tok.RefreshToken
	for i := range 2 {
		var next tokenResponse
		refresh(t, tokenURL, client, rt).expect(t, http.StatusOK).decode(t, &next)
		check(fmt.Sprintf("refresh %d without resource", i+1), next.AccessToken)
		rt = next.RefreshToken
	}
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"resource": {"https://other.example.com"}}, client.ID, client.Secret), http.StatusBadRequest, "invalid_target")
	var same tokenResponse
	postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {gatewayAPI}},
		client.ID, client.Secret).expect(t, http.StatusOK).decode(t, &same)
	check("refresh repeating resource", same.AccessToken)
}

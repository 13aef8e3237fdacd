package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
	"github.com/gatehouse/gatehouse/modules/oidc/resources"
)

// fakeKeys accepts the keys it holds (key → principal).
type fakeKeys map[string]principal.Principal

func (k fakeKeys) AuthenticateBearer(_ context.Context, token string) (principal.Principal, error) {
	if p, ok := k[token]; ok {
		return p, nil
	}
	return principal.Principal{}, fmt.Errorf("%w: unknown key", httpserver.ErrUnauthenticated)
}

func TestTokenExchange(t *testing.T) {
	db := testutil.NewSQLite(t)
	apis := resources.New(db, audit.New(db), resources.Options{})
	keys := fakeKeys{
		"gh_scoped":   {Kind: principal.User, ID: "user-1", Via: principal.ViaAPIKey, CredentialID: "k1", Scopes: []string{"invoices:read", "users:read"}},
		"gh_reader":   {Kind: principal.User, ID: "user-1", Via: principal.ViaAPIKey, CredentialID: "k4", Scopes: []string{"*:read"}},
		"gh_full":     {Kind: principal.User, ID: "user-1", Via: principal.ViaAPIKey, CredentialID: "k2"},
		"gh_disabled": {Kind: principal.User, ID: "user-2", Via: principal.ViaAPIKey, CredentialID: "k3"},
	}
	ts := newTestServer(t, db, func(o *Options) { o.Resources, o.APIKeys = apis, keys })
	ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "", "admin")
	ts.users.Add(identity.User{ID: "user-2", Email: "bob@example.test"}, "")
	ts.users.SetStatus("user-2", identity.StatusDisabled)
	gw, gwSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "gw", GrantTypes: []string{clients.GrantTokenExchange}})
	plain, plainSecret := mustCreateClient(t, ts.p, clients.NewClient{Name: "cc", GrantTypes: []string{clients.GrantClientCredentials}})
	api, err := apis.Create(oidctest.SystemCtx(), resources.NewResource{Identifier: "https://invoices.example.com", Name: "Invoices",
		Scopes: []string{"invoices:read", "invoices:write"}})
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(id, secret string, form url.Values) (int, map[string]any) {
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
		st, b := oidctest.PostForm(t, ts.URL+"/oauth/token", id, secret, form)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return st, m
	}
	keyForm := func(key string) url.Values {
		return url.Values{"subject_token": {key}, "subject_token_type": {string(TokenTypeAPIKey)}, "resource": {api.Identifier}}
	}

	st, m := exchange(gw.ID, gwSecret, keyForm("gh_scoped"))
	if st != 200 || m["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || m["token_type"] != "Bearer" {
		t.Fatalf("exchange: %d %v", st, m)
	}
	if ei, _ := m["expires_in"].(float64); ei <= 0 || ei > 300 {
		t.Errorf("expires_in %v, want at most 300", m["expires_in"])
	}
	tok := m["access_token"].(string)
	if jwtHeader(t, tok)["typ"] != "at+jwt" {
		t.Errorf("typ %v", jwtHeader(t, tok)["typ"])
	}
	cl := jwtClaims(t, tok)
	if cl["sub"] != "user-1" || cl["client_id"] != gw.ID || cl["scope"] != "invoices:read" ||
		!slices.Equal(claimList(cl["aud"]), []string{api.Identifier}) {
		t.Errorf("claims %v", cl)
	}
	if exp, iat := cl["exp"].(float64), cl["iat"].(float64); exp-iat > 300 {
		t.Errorf("lives %v s", exp-iat)
	}
	var n int64
	db.Gorm.Table("audit_events").Where("action = ?", "token.exchange").Count(&n)
	if n != 1 {
		t.Errorf("%d token.exchange audit events, want 1", n)
	}

	t.Run("an unscoped key gets the API's scopes; scope narrows", func(t *testing.T) {
		_, m := exchange(gw.ID, gwSecret, keyForm("gh_full"))
		if got := jwtClaims(t, m["access_token"].(string))["scope"]; got != "invoices:read invoices:write" {
			t.Errorf("scope %v", got)
		}
		_, m = exchange(gw.ID, gwSecret, keyForm("gh_reader"))
		if got := jwtClaims(t, m["access_token"].(string))["scope"]; got != "invoices:read" {
			t.Errorf("*:read key: scope %v, want invoices:read", got)
		}
		f := keyForm("gh_scoped")
		f.Set("scope", "invoices:write")
		if st, m := exchange(gw.ID, gwSecret, f); st != 400 || m["error"] != "invalid_scope" {
			t.Errorf("a scope beyond the key's: %d %v", st, m)
		}
	})
	t.Run("an access token as subject", func(t *testing.T) {
		f := url.Values{"subject_token": {tok}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {api.Identifier}}
		st, m := exchange(gw.ID, gwSecret, f)
		if st != 200 || jwtClaims(t, m["access_token"].(string))["sub"] != "user-1" {
			t.Errorf("%d %v", st, m)
		}
	})
	for _, tc := range []struct {
		name, id, secret string
		form             url.Values
		status           int
		code             string
	}{
		{"unknown key", gw.ID, gwSecret, keyForm("gh_nope"), 400, "invalid_grant"},
		{"disabled owner", gw.ID, gwSecret, keyForm("gh_disabled"), 400, "invalid_grant"},
		{"client without the grant", plain.ID, plainSecret, keyForm("gh_scoped"), 400, "unauthorized_client"},
		{"wrong secret", gw.ID, "nope", keyForm("gh_scoped"), 401, "invalid_client"},
		{"unknown API", gw.ID, gwSecret, url.Values{"subject_token": {"gh_full"}, "subject_token_type": {string(TokenTypeAPIKey)}, "resource": {"https://x.example"}}, 400, "invalid_target"},
		{"no API", gw.ID, gwSecret, url.Values{"subject_token": {"gh_full"}, "subject_token_type": {string(TokenTypeAPIKey)}}, 400, "invalid_target"},
		{"unknown token type", gw.ID, gwSecret, url.Values{"subject_token": {"x"}, "subject_token_type": {"urn:x"}, "resource": {api.Identifier}}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, m := exchange(tc.id, tc.secret, tc.form); st != tc.status || m["error"] != tc.code {
				t.Errorf("%d %v, want %d %s", st, m, tc.status, tc.code)
			}
		})
	}
}

package provider

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

// authzRoles adapts the provider's fake directory to authz.RoleSource, so
// the real authz service decides on the same users the provider serves.
type authzRoles struct{ *oidctest.Users }

func (authzRoles) RoleExists(_ context.Context, name string) (bool, error) {
	return name == "billing" || name == "admin" || name == "user-admin" || name == "auditor", nil
}

// TestPermissionsClaim runs the code flow through the real provider with
// the real authz service as PermissionSource: a client with the option gets
// the permissions claim in the ID token, the access token, introspection,
// userinfo and after a refresh; a client without it, and client-credentials
// tokens, never do.
func TestPermissionsClaim(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		var users *oidctest.Users
		var az *authz.Service
		ts := newTestServer(t, db, func(o *Options) { o.Permissions = lazyPermissions{&az} })
		users = ts.users
		var err error
		az, err = authz.New(ctx, db, authz.Deps{Roles: authzRoles{users}, Audit: audit.New(db)}, authz.Options{
			IsUnknownUser: func(err error) bool { return errors.Is(err, identity.ErrNotFound) },
		})

		if err != nil {
			t.Fatal(err)
		}
		if _, err := az.CreatePolicy(oidctest.SystemCtx(), authz.Rule{Subject: "role:billing", Resource: "invoice:*", Action: "read", Effect: authz.Allow}); err != nil {
			t.Fatalf("CreatePolicy: %v", err)
		}
		users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "", "billing")
		want, err := az.PermissionsFor(ctx, "user-1")
		if err != nil || !slices.Contains(want, "invoice:*#read") {
			t.Fatalf("PermissionsFor = %v, %v", want, err)
		}

		prov, err := gooidc.NewProvider(ctx, ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		authn := flow.Authentication{UserID: "user-1", SessionID: "sess-1", AuthTime: time.Now().Add(-time.Minute).UTC(),
			AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword}
		signIn := func(t *testing.T, n clients.NewClient) (*oauth2.Config, *oauth2.Token) {
			t.Helper()
			n.RedirectURIs = []string{"https://app.test/cb"}
			n.GrantTypes = []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials}
			c, secret := mustCreateClient(t, ts.p, n)
			cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
				Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
				Scopes:   []string{"openid", "email", "offline_access"}}
			verifier := oauth2.GenerateVerifier()
			code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(verifier))
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			return cfg, tok
		}
		// claimsOf collects the permissions claim (nil: absent) of every
		// place a user's claims reach the app.
		claimsOf := func(t *testing.T, cfg *oauth2.Config, tok *oauth2.Token) map[string][]string {
			t.Helper()
			out := map[string][]string{}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := prov.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			var m map[string]any
			if err := idt.Claims(&m); err != nil {
				t.Fatal(err)
			}
			out["id_token"] = strs(m["permissions"])
			out["access_token"] = strs(jwtClaims(t, tok.AccessToken)["permissions"])
			st, in := introspect(t, ts, cfg.ClientID, cfg.ClientSecret, tok.AccessToken)
			if st != 200 || in["active"] != true {
				t.Fatalf("introspect: %d %v", st, in)
			}
			out["introspection"] = strs(in["permissions"])
			ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			m = nil
			if err := ui.Claims(&m); err != nil {
				t.Fatal(err)
			}
			out["userinfo"] = strs(m["permissions"])
			return out
		}

		t.Run("client with the option", func(t *testing.T) {
			cfg, tok := signIn(t, clients.NewClient{Name: "offline-app", PermissionsClaim: true})
			for where, got := range claimsOf(t, cfg, tok) {
				if !slices.Equal(got, want) {
					t.Errorf("%s permissions = %v, want %v", where, got, want)
				}
			}
			// Refreshing recomputes at issuance: a revoked right disappears.
			// (main registers authz as identity's listener; a role change
			// drops its role cache the same way.)
			users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "")
			if err := az.UserChanged(ctx, "user-1"); err != nil {
				t.Fatal(err)
			}
			t2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "", "billing")
			if err := az.UserChanged(ctx, "user-1"); err != nil {
				t.Fatal(err)
			}
			at := jwtClaims(t, t2.AccessToken)
			if p, ok := at["permissions"].([]any); !ok || slices.Contains(strs(p), "invoice:*#read") {
				t.Errorf("refreshed access token permissions = %v (want an array without invoice:*#read)", at["permissions"])
			}
			raw, _ := t2.Extra("id_token").(string)
			if p := jwtClaims(t, raw)["permissions"]; !slices.Equal(strs(p), strs(at["permissions"])) {
				t.Errorf("refreshed ID token permissions %v differ from the access token's %v", p, at["permissions"])
			}
			// Client credentials: no user, no permissions.
			_, b := oidctest.PostForm(t, ts.URL+"/oauth/token", cfg.ClientID, cfg.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			if strings.Contains(string(b), "error") {
				t.Fatalf("client_credentials: %s", b)
			}
			cc := strings.SplitN(strings.SplitN(string(b), `"access_token":"`, 2)[1], `"`, 2)[0]
			if _, ok := jwtClaims(t, cc)["permissions"]; ok {
				t.Errorf("client-credentials token carries permissions")
			}
		})

		t.Run("client without the option", func(t *testing.T) {
			cfg, tok := signIn(t, clients.NewClient{Name: "plain-app"})
			for where, got := range claimsOf(t, cfg, tok) {
				if got != nil {
					t.Errorf("%s carries permissions %v", where, got)
				}
			}
		})

		t.Run("option switched on by update", func(t *testing.T) {
			cfg, _ := signIn(t, clients.NewClient{Name: "later-app"})
			on := true
			c, err := registry(ts.p).Update(oidctest.SystemCtx(), cfg.ClientID, clients.ClientUpdate{PermissionsClaim: &on})
			if err != nil || !c.PermissionsClaim {
				t.Fatalf("UpdateClient: %+v %v", c, err)
			}
			got, err := registry(ts.p).Get(ctx, cfg.ClientID)
			if err != nil || !got.PermissionsClaim {
				t.Fatalf("stored client: %+v %v", got, err)
			}
			verifier := oauth2.GenerateVerifier()
			code := codeFlow(t, ts, cfg, authn, oauth2.S256ChallengeOption(verifier))
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if p := strs(jwtClaims(t, tok.AccessToken)["permissions"]); !slices.Equal(p, want) {
				t.Errorf("access token permissions = %v, want %v", p, want)
			}
		})
	})
}

// TestPermissionsClaimNilSource: with the option on but no source wired,
// tokens carry no claim and issuance still works.
func TestPermissionsClaimNilSource(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db)
		ts.users.Add(identity.User{ID: "user-1", Email: "ada@example.test"}, "")
		c, secret := mustCreateClient(t, ts.p, clients.NewClient{Name: "app", RedirectURIs: []string{"https://app.test/cb"}, PermissionsClaim: true})
		cfg := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: "https://app.test/cb",
			Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/oauth/token"},
			Scopes:   []string{"openid"}}
		verifier := oauth2.GenerateVerifier()
		code := codeFlow(t, ts, cfg, flow.Authentication{UserID: "user-1", AuthTime: time.Now().UTC(), AMR: []string{flow.AMRPassword}, ACR: flow.ACRPassword},
			oauth2.S256ChallengeOption(verifier))
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		for where, tk := range map[string]string{"access token": tok.AccessToken, "ID token": raw} {
			if _, ok := jwtClaims(t, tk)["permissions"]; ok {
				t.Errorf("%s carries permissions without a source", where)
			}
		}
	})
}

// lazyPermissions lets the test build the authz service after the
// provider (both need the same database and fake directory).
type lazyPermissions struct{ s **authz.Service }

func (l lazyPermissions) PermissionsFor(ctx context.Context, userID string) ([]string, error) {
	if *l.s == nil {
		return nil, errors.New("authz not ready")
	}
	return (*l.s).PermissionsFor(ctx, userID)
}

// strs converts a decoded JSON array of strings; nil when v is not one.
func strs(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

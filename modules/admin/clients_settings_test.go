package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// settingsForm is a complete post of the client edit form.
func settingsForm(over map[string]string) url.Values {
	f := url.Values{"name": {"Wiki"}, "redirect_uris": {"https://wiki.example.com/cb"},
		"post_logout_redirect_uris": {"https://wiki.example.com/bye"}, "grant_types": {"authorization_code", "refresh_token"},
		"access_token_ttl": {"15m"}, "id_token_ttl": {"2h"}, "refresh_token_ttl": {"60d"}, "refresh_token_idle_ttl": {"3d"},
		"id_token_alg": {"ES256"}, "access_token_alg": {"EdDSA"}, "permissions_claim": {"on"}}
	for k, v := range over {
		f.Set(k, v)
	}
	return f
}

// TestClientSettings saves every setting the API allows through the edit
// page on both databases; a bad value is a readable message that changes
// nothing; a public client stays public with PKCE.
func TestClientSettings(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		c := newConsoleOn(t, db)
		c.as = c.user("root@example.com", "Root", "admin")
		r := c.post("/admin/clients", url.Values{"name": {"Wiki"}, "redirect_uris": {"https://wiki.example.com/cb"}})
		r.want(t, http.StatusCreated, `data-copy="client-secret"`, "/static/copy.js")
		id := regexp.MustCompile(`client_id: (\S+)`).FindStringSubmatch(r.body)[1]
		edit := "/admin/clients/" + id + "/edit"

		c.get(edit).want(t, http.StatusOK, `<label for="post_logout_redirect_uris">Post-logout redirect URIs</label>`,
			`<label for="require_pkce">Require PKCE</label>`, `<label for="access_token_ttl">Access token lifetime</label>`,
			`<label for="id_token_ttl">ID token lifetime</label>`, `<label for="refresh_token_ttl">Refresh token lifetime</label>`,
			`<label for="refresh_token_idle_ttl">Refresh token idle lifetime</label>`, `<label for="id_token_alg">ID token algorithm</label>`,
			`<label for="permissions_claim">Permissions claim`, `<label for="public">Public client</label>`,
			"issuer: https://id.example.com", "discovery_url: https://id.example.com/.well-known/openid-configuration",
			"client_id: "+id, "redirect_uri: https://wiki.example.com/cb", "Issue new secret", "Delete this client")

		r = c.post(edit, settingsForm(nil))
		r.want(t, http.StatusSeeOther)
		cl, err := c.clients.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cl.PostLogoutRedirectURIs, []string{"https://wiki.example.com/bye"}) || cl.AccessTokenTTL != 15*time.Minute ||
			cl.IDTokenTTL != 2*time.Hour || cl.RefreshTokenTTL != 60*24*time.Hour || cl.RefreshTokenIdleTTL != 72*time.Hour ||
			cl.IDTokenAlg != clients.AlgES256 || cl.AccessTokenAlg != clients.AlgEdDSA || !cl.PermissionsClaim || cl.RequirePKCE || cl.Public {
			t.Errorf("after the edit: %+v", cl)
		}
		c.get(edit).want(t, http.StatusOK, `value="15m"`, `value="2h"`, `value="60d"`, `value="3d"`, `<option value="ES256" selected>`, `<option value="EdDSA" selected>`)

		for _, bad := range []struct{ field, value, msg string }{
			{"access_token_ttl", "ten minutes", "Access token lifetime: &#34;ten minutes&#34; is not a duration"},
			{"refresh_token_idle_ttl", "-5m", "Refresh token idle lifetime"},
			{"access_token_ttl", "48h", "Access token lifetime: must be between"},
			{"id_token_alg", "HS256", "ID token algorithm"},
			{"access_token_alg", "HS256", "Access token algorithm: must be ES256, RS256 or EdDSA"},
			{"post_logout_redirect_uris", "javascript:alert(1)", "Post-logout redirect URIs"},
		} {
			r := c.post(edit, settingsForm(map[string]string{bad.field: bad.value, "name": "Changed"}))
			r.want(t, http.StatusUnprocessableEntity, bad.msg, `value="Changed"`)
			if after, _ := c.clients.Get(ctx, id); after.Name != "Wiki" || after.AccessTokenTTL != 15*time.Minute ||
				!slices.Equal(after.PostLogoutRedirectURIs, cl.PostLogoutRedirectURIs) || after.IDTokenAlg != clients.AlgES256 ||
				after.AccessTokenAlg != clients.AlgEdDSA {
				t.Errorf("%s=%q changed the client: %+v", bad.field, bad.value, after)
			}
		}

		// A public client: no secret, PKCE always, and it stays public.
		r = c.post("/admin/clients", url.Values{"name": {"SPA"}, "redirect_uris": {"https://spa.example.com/cb"}, "public": {"on"}})
		r.want(t, http.StatusCreated, "public client: it has no secret")
		if strings.Contains(r.body, "client_secret:") {
			t.Errorf("a public client was shown a secret:\n%s", r.body)
		}
		spa := regexp.MustCompile(`client_id: (\S+)`).FindStringSubmatch(r.body)[1]
		page := c.get("/admin/clients/" + spa + "/edit")
		page.want(t, http.StatusOK, "public client: no secret, PKCE required", `id="require_pkce" name="require_pkce" checked disabled`)
		if strings.Contains(page.body, "Issue new secret") {
			t.Error("a public client is offered a secret rotation")
		}
		c.post("/admin/clients/"+spa+"/edit", url.Values{"name": {"SPA"}, "redirect_uris": {"https://spa.example.com/cb"}}).want(t, http.StatusSeeOther)
		if got, _ := c.clients.Get(ctx, spa); !got.Public || !got.RequirePKCE {
			t.Errorf("the public client after an edit: %+v", got)
		}

		// An auditor reads clients but changes nothing.
		c.as = c.user("audrey@example.com", "Audrey", "auditor")
		c.post(edit, settingsForm(map[string]string{"name": "Audited"})).want(t, http.StatusForbidden)
		c.post("/admin/clients/"+id+"/secret", nil).want(t, http.StatusForbidden)
		c.post("/admin/clients/"+id+"/delete", nil).want(t, http.StatusForbidden)
		if after, err := c.clients.Get(ctx, id); err != nil || after.Name != "Wiki" {
			t.Errorf("after the auditor's posts: %+v, %v", after, err)
		}
	})
}

func TestLifetimes(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "30d": 720 * time.Hour, "45s": 45 * time.Second} {
		got, err := parseLifetime(in)
		if err != nil || got != want {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := parseLifetime(formatLifetime(got)); back != got {
			t.Errorf("formatLifetime(%v) = %q does not read back", got, formatLifetime(got))
		}
	}
	for _, bad := range []string{"10", "d", "-1h", "1.5d", "ten"} {
		if _, err := parseLifetime(bad); err == nil {
			t.Errorf("parseLifetime(%q) accepted", bad)
		}
	}
}

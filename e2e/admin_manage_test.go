package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminManage is the console's management journey in Chromium, as the
// bootstrap admin: create a role, edit its description and make it inherit
// another; edit a client's post-logout redirect URI and access-token
// lifetime (a bad lifetime is a readable message first) and rotate its
// secret (shown once); create a service account and an API key for it, use
// the key and revoke it; then find every one of these changes in the audit
// log page. The API confirms each change reached the service.
func TestAdminManage(t *testing.T) {
	t.Parallel()
	axe := axeScript(t)
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	ctx := newBrowser(t)

	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin")
	browserSignIn(t, ctx, srv.AdminEmail, srv.AdminPassword)
	waitPath(t, ctx, "/admin")
	browserDo(t, ctx, "navigation link Service accounts", chromedp.WaitVisible("link Service accounts", byName("link", "Service accounts")))

	// Roles: create "editor", then on its page the description and a parent.
	browserNavigate(t, ctx, srv.URL+"/admin/roles")
	browserFill(t, ctx, "Name", "editor")
	browserClick(t, ctx, "Create role")
	waitPath(t, ctx, "/admin/roles/editor")
	browserWaitText(t, ctx, "The role was created.")
	browserDo(t, ctx, "set Description", chromedp.WaitVisible("textbox Description", byName("textbox", "Description")),
		chromedp.SetValue("textbox Description", "Edits the wiki", byName("textbox", "Description")))
	browserClick(t, ctx, "Save description")
	browserWaitText(t, ctx, "The role was saved.")
	browserDo(t, ctx, "choose a parent", chromedp.WaitVisible("combobox Parent role", byName("combobox", "Parent role")),
		chromedp.SetValue("combobox Parent role", "auditor", byName("combobox", "Parent role")))
	browserClick(t, ctx, "Add parent")
	browserWaitText(t, ctx, "The role now inherits from the chosen role.")
	wantAccessible(t, ctx, axe, "the role page")
	var role struct {
		Description string `json:"description"`
	}
	admin.get(t, "/roles/editor").expect(t, http.StatusOK).decode(t, &role)
	parents := string(admin.get(t, "/roles/editor/parents").expect(t, http.StatusOK).Body)
	if role.Description != "Edits the wiki" || !strings.Contains(parents, `"parent":"auditor"`) {
		t.Errorf("after the role page: description %q, parents %s", role.Description, parents)
	}

	// Clients: create one, then edit its post-logout URI and lifetime.
	browserNavigate(t, ctx, srv.URL+"/admin/clients/new")
	browserFill(t, ctx, "Name", "Wiki")
	browserFill(t, ctx, "Redirect URIs", "https://wiki.example.com/callback")
	browserClick(t, ctx, "Create")
	browserWaitText(t, ctx, "shown only once")
	m := regexp.MustCompile(`client_id: (\S+)\s+client_secret: (\S+)`).FindStringSubmatch(browserText(t, ctx))
	if m == nil {
		t.Fatalf("no client id and secret after Create:\n%s", pageState(ctx))
	}
	clientID, firstSecret := m[1], m[2]
	browserNavigate(t, ctx, srv.URL+"/admin/clients/"+clientID+"/edit")
	browserFill(t, ctx, "Post-logout redirect URIs", "https://wiki.example.com/signed-out")
	wantAccessible(t, ctx, axe, "the client page")
	browserFill(t, ctx, "Access token lifetime", "15m")
	browserFill(t, ctx, "ID token lifetime", "soon")
	browserClick(t, ctx, "Save client")
	browserWaitText(t, ctx, `ID token lifetime: "soon" is not a duration`)
	browserDo(t, ctx, "correct ID token lifetime", chromedp.SetValue("textbox ID token lifetime", "2h", byName("textbox", "ID token lifetime")))
	browserClick(t, ctx, "Save client")
	browserWaitText(t, ctx, "The client was saved.")
	var cl struct {
		PostLogout []string `json:"post_logout_redirect_uris"`
		AccessTTL  int64    `json:"access_token_ttl"`
		IDTTL      int64    `json:"id_token_ttl"`
	}
	admin.get(t, "/clients/"+clientID).expect(t, http.StatusOK).decode(t, &cl)
	if len(cl.PostLogout) != 1 || cl.PostLogout[0] != "https://wiki.example.com/signed-out" || cl.AccessTTL != 900 || cl.IDTTL != 7200 {
		t.Errorf("after the edit page: %+v", cl)
	}

	// Rotate the secret: confirmed, shown once, with a working copy button.
	browserOpenDetails(t, ctx, "Rotate secret")
	browserClick(t, ctx, "Rotate secret of Wiki")
	browserWaitText(t, ctx, "New client secret")
	browserWaitText(t, ctx, "shown only once")
	browserHasButton(t, ctx, "Copy secret")
	wantAccessible(t, ctx, axe, "the new secret page")
	m = regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(browserText(t, ctx))
	if m == nil || m[1] == firstSecret {
		t.Fatalf("no new secret after rotation:\n%s", pageState(ctx))
	}
	browserNavigate(t, ctx, srv.URL+"/admin/clients/"+clientID+"/edit")
	browserWaitText(t, ctx, "client_id: "+clientID)
	if text := browserText(t, ctx); strings.Contains(text, m[1]) || strings.Contains(text, firstSecret) {
		t.Error("the client's page shows a secret again")
	}

	// Service account and a key for it: used, then revoked.
	browserNavigate(t, ctx, srv.URL+"/admin/service-accounts")
	wantAccessible(t, ctx, axe, "the service accounts page")
	browserFill(t, ctx, "Name", "CI bot")
	browserClick(t, ctx, "Create service account")
	browserWaitText(t, ctx, "The service account was created.")
	browserFill(t, ctx, "Key name", "deploy")
	browserFill(t, ctx, "Scopes", "api-keys:read")
	browserDo(t, ctx, "choose an expiry", chromedp.SetValue("combobox Expires", "30d", byName("combobox", "Expires")))
	browserClick(t, ctx, "Create API key")
	browserWaitText(t, ctx, "shown only once")
	browserHasButton(t, ctx, "Copy key")
	wantAccessible(t, ctx, axe, "the new API key page")
	key := regexp.MustCompile(`gh_\S+`).FindString(browserText(t, ctx))
	if key == "" {
		t.Fatalf("no key on the page:\n%s", pageState(ctx))
	}
	api(srv, key).get(t, "/api-keys").expect(t, http.StatusOK)
	browserNavigate(t, ctx, srv.URL+"/admin/service-accounts")
	browserWaitText(t, ctx, "CI bot")
	browserDo(t, ctx, "open the keys", chromedp.Click("link API keys of CI bot", byName("link", "API keys of CI bot")))
	browserWaitText(t, ctx, "api-keys:read")
	if strings.Contains(browserText(t, ctx), key) {
		t.Error("the key list shows the secret again")
	}
	browserOpenDetails(t, ctx, "Revoke")
	browserClick(t, ctx, "Revoke key deploy")
	browserWaitText(t, ctx, "The API key was revoked.")
	api(srv, key).get(t, "/api-keys").expect(t, http.StatusUnauthorized)

	// The audit log has every change.
	browserNavigate(t, ctx, srv.URL+"/admin/audit")
	text := browserText(t, ctx)
	for _, a := range []string{"role.create", "role.update", "role_parent.create", "client.update", "client.secret.rotate",
		"user.create", "apikey.create", "apikey.revoke"} {
		if !strings.Contains(text, a) {
			t.Errorf("the audit log lacks %s:\n%s", a, text)
		}
	}
}

// browserOpenDetails opens the confirmation (<details>) whose summary is
// summary, revealing its button.
func browserOpenDetails(t *testing.T, ctx context.Context, summary string) {
	t.Helper()
	sel := `//summary[normalize-space(.)="` + summary + `"]`
	browserDo(t, ctx, "open "+summary, chromedp.WaitVisible(sel), chromedp.Click(sel))
}

// wantAccessible fails the test for each serious or critical axe-core
// violation on the page shown, and saves a screenshot of it in the
// artifacts (GATEHOUSE_ARTIFACTS) named after what.
func wantAccessible(t *testing.T, ctx context.Context, script, what string) {
	t.Helper()
	screenshot(t, ctx, 1280, filepath.Join(artifactDir(t), "manage-"+strings.ReplaceAll(what, " ", "-")+".png"))
	for _, v := range axeAudit(t, ctx, script) {
		t.Errorf("%s: %s (%s) %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

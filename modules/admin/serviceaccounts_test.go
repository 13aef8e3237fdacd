package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// machineUsers lists the service accounts in the database.
func machineUsers(t *testing.T, c *console) []identity.User {
	t.Helper()
	p, err := c.ids.ListUsers(context.Background(), identity.UserFilter{Machine: true})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// TestServiceAccounts creates a service account and a scoped, expiring key
// for it, then revokes the key, on both databases; refused posts change
// nothing.
func TestServiceAccounts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		root := c.user("root@example.com", "Root", "admin")
		c.as = root
		c.get("/admin/service-accounts").want(t, http.StatusOK, "No service accounts yet", `<label for="sa-name">Name</label>`, "Create service account")

		r := c.post("/admin/service-accounts", url.Values{"name": {"CI <bot>"}})
		r.want(t, http.StatusSeeOther)
		sas := machineUsers(t, c)
		if len(sas) != 1 || sas[0].Name != "CI <bot>" || !strings.HasSuffix(sas[0].Email, "@"+apikeys.ServiceAccountDomain) {
			t.Fatalf("service accounts after create: %+v", sas)
		}
		sa := sas[0]
		if want := "/admin/api-keys?flash=sa-created&user=" + sa.ID; r.location != want {
			t.Errorf("after create: redirect to %q, want %q", r.location, want)
		}
		list := c.get("/admin/service-accounts")
		list.want(t, http.StatusOK, "CI &lt;bot&gt;", sa.Email, `href="/admin/api-keys?user=`+sa.ID+`"`)
		if strings.Contains(list.body, "root@example.com</td>") {
			t.Error("a person is listed as a service account")
		}

		// Bad input: readable, nothing created.
		c.post("/admin/service-accounts", url.Values{"name": {"  "}}).want(t, http.StatusUnprocessableEntity, "name")
		c.post("/admin/service-accounts", url.Values{"name": {"Dup"}, "email": {sa.Email}}).want(t, http.StatusConflict, "already exists", `value="Dup"`)
		c.post("/admin/service-accounts", url.Values{"name": {"Bad"}, "email": {"not an email"}}).want(t, http.StatusUnprocessableEntity)
		if n := len(machineUsers(t, c)); n != 1 {
			t.Errorf("%d service accounts after refused posts, want 1", n)
		}

		// A key for it: scopes and expiry, the secret once.
		keys := "/admin/api-keys?user=" + sa.ID
		c.get(keys+"&flash=sa-created").want(t, http.StatusOK, "The service account was created.", "API keys of service account CI &lt;bot&gt;", sa.Email, "(service account)")
		c.post("/admin/api-keys", url.Values{"user_id": {sa.ID}, "name": {"deploy"}, "expires": {"forever"}}).
			want(t, http.StatusUnprocessableEntity, "Choose when the key expires", `value="deploy"`)
		c.post("/admin/api-keys", url.Values{"user_id": {sa.ID}, "name": {"deploy"}, "scopes": {"not-a-scope"}}).want(t, http.StatusUnprocessableEntity)
		if n := countKeys(t, c, sa.ID); n != 0 {
			t.Fatalf("%d keys after refused posts", n)
		}
		r = c.post("/admin/api-keys", url.Values{"user_id": {sa.ID}, "name": {"deploy"}, "scopes": {"users:read"}, "expires": {"7d"}})
		r.want(t, http.StatusCreated, "shown only once", `data-copy="api-key-secret"`, "/static/copy.js")
		secret := regexp.MustCompile(`data-secret>(gh_[^<]+)<`).FindStringSubmatch(r.body)
		if secret == nil {
			t.Fatalf("no secret:\n%s", r.body)
		}
		page := c.get(keys)
		page.want(t, http.StatusOK, "deploy", "users:read", "root@example.com", "<th scope=\"col\">Created by</th>", "Revoke the key deploy?")
		if strings.Contains(page.body, secret[1]) || strings.Contains(page.body, ">never</td><td>never") {
			t.Errorf("the list shows the secret or no expiry:\n%s", page.body)
		}

		// Others: an auditor reads but cannot create; a user-admin may create
		// service accounts but not keys for someone else.
		c.as = c.user("audrey@example.com", "Audrey", "auditor")
		c.get("/admin/service-accounts").want(t, http.StatusOK, "CI &lt;bot&gt;")
		c.post("/admin/service-accounts", url.Values{"name": {"Audited"}}).want(t, http.StatusForbidden)
		c.as = c.user("uma@example.com", "Uma", "user-admin")
		c.post("/admin/api-keys", url.Values{"user_id": {sa.ID}, "name": {"sneaky"}}).want(t, http.StatusForbidden)
		id := regexp.MustCompile(`/admin/api-keys/([^/]+)/revoke`).FindStringSubmatch(page.body)[1]
		c.post("/admin/api-keys/"+id+"/revoke", nil).want(t, http.StatusForbidden)
		if n := countKeys(t, c, sa.ID); n != 1 {
			t.Errorf("%d keys after refused posts, want 1", n)
		}
		if n := len(machineUsers(t, c)); n != 1 {
			t.Errorf("%d service accounts after refused posts, want 1", n)
		}

		c.as = root
		c.post("/admin/api-keys/"+id+"/revoke", nil).want(t, http.StatusSeeOther)
		c.get(keys).want(t, http.StatusOK, "revoked")
		ev := strings.Join(c.events(), "\n")
		for _, a := range []string{"user.create by " + root, "apikey.create by " + root, "apikey.revoke by " + root} {
			if !strings.Contains(ev, a) {
				t.Errorf("no %s in\n%s", a, ev)
			}
		}
	})
}

// countKeys counts owner's keys that are not revoked.
func countKeys(t *testing.T, c *console, owner string) int {
	t.Helper()
	p, err := c.keys.List(context.Background(), apikeys.Filter{UserID: owner})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

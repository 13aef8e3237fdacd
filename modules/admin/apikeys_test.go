package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestAPIKeysPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	bob := c.user("bob@example.com", "Bob")

	c.get("/admin/api-keys?user="+bob).want(t, http.StatusOK, "API keys of bob@example.com", "No API keys.", "Create API key")
	r := c.post("/admin/api-keys", url.Values{"user_id": {bob}, "name": {"ci"}, "scopes": {"users:read"}, "expires": {"30d"}})
	r.want(t, http.StatusCreated, "shown only once", "users:read")
	secret := regexp.MustCompile(`data-secret>(gh_[^<]+)<`).FindStringSubmatch(r.body)
	if secret == nil {
		t.Fatalf("no secret:\n%s", r.body)
	}
	list := c.get("/admin/api-keys?user=" + bob)
	if strings.Contains(list.body, secret[1]) {
		t.Error("the list shows the secret again")
	}
	id := regexp.MustCompile(`/admin/api-keys/([^/]+)/revoke`).FindStringSubmatch(list.body)
	if id == nil {
		t.Fatalf("no Revoke form:\n%s", list.body)
	}
	c.post("/admin/api-keys/"+id[1]+"/revoke", nil).want(t, http.StatusSeeOther)
	c.get("/admin/api-keys?user="+bob).want(t, http.StatusOK, "revoked")
	c.post("/admin/api-keys", url.Values{"user_id": {bob}, "name": {"x"}, "scopes": {"no such scope"}}).want(t, http.StatusUnprocessableEntity)

	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get("/admin/api-keys?user="+bob).want(t, http.StatusForbidden)
}

package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

func TestPoliciesPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	bob := c.user("bob@example.com", "Bob")
	c.get("/admin/policies").want(t, http.StatusOK, "role:user-admin", "built-in", "Create rule", "Test access")
	c.get("/admin/policies?test_user="+bob+"&test_resource=docs:1&test_action=read").want(t, http.StatusOK, "Denied")
	c.post("/admin/policies", url.Values{"subject": {"user:" + bob}, "resource": {"docs:*"}, "action": {"read"}, "effect": {"allow"}}).
		want(t, http.StatusSeeOther)
	r := c.get("/admin/policies?test_user=" + bob + "&test_resource=docs:1&test_action=read")
	r.want(t, http.StatusOK, "Allowed")
	c.post("/admin/policies", url.Values{"subject": {"role:x"}, "resource": {"docs:*"}, "action": {"read"}, "effect": {"allow"}, "condition": {"r.obj.owner =="}}).
		want(t, http.StatusBadRequest, `value="r.obj.owner =="`)
	id := regexp.MustCompile(`/admin/policies/([^/]+)/delete`).FindStringSubmatch(r.body)
	if id == nil {
		t.Fatalf("no delete form:\n%s", r.body)
	}
	c.post("/admin/policies/"+id[1]+"/delete", nil).want(t, http.StatusSeeOther)

	// A user-admin may not grant what they do not hold.
	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get("/admin/policies").want(t, http.StatusForbidden)
}

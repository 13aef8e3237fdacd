package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestClientsPages(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")

	c.get("/admin/clients").want(t, http.StatusOK, "No clients yet", "Create client")
	c.get("/admin/clients/new").want(t, http.StatusOK, `<label for="redirect_uris">Redirect URIs</label>`)
	c.post("/admin/clients", url.Values{"name": {"App"}, "redirect_uris": {"not a uri"}}).
		want(t, http.StatusUnprocessableEntity, "redirect", `value="App"`)

	r := c.post("/admin/clients", url.Values{"name": {"<b>App</b>"}, "redirect_uris": {"https://app.example.com/cb\r\nhttps://app.example.com/cb2\r\n"}})
	r.want(t, http.StatusCreated, "shown only once", "issuer: https://id.example.com",
		"discovery_url: https://id.example.com/.well-known/openid-configuration", "redirect_uri: https://app.example.com/cb", "&lt;b&gt;App&lt;/b&gt;")
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(r.body)
	id := regexp.MustCompile(`client_id: (\S+)`).FindStringSubmatch(r.body)
	if secret == nil || id == nil {
		t.Fatalf("no secret or id on the page:\n%s", r.body)
	}
	list := c.get("/admin/clients")
	list.want(t, http.StatusOK, id[1], "https://app.example.com/cb2")
	if strings.Contains(list.body, secret[1]) {
		t.Error("the list shows the secret again")
	}
	rot := c.post("/admin/clients/"+id[1]+"/secret", nil)
	rot.want(t, http.StatusOK, "New client secret")
	if strings.Contains(rot.body, secret[1]) {
		t.Error("rotation shows the old secret")
	}
	c.get("/admin/clients/"+id[1]+"/delete").want(t, http.StatusOK, "Delete client")
	c.post("/admin/clients/"+id[1]+"/delete", nil).want(t, http.StatusSeeOther)
	c.get("/admin/clients").want(t, http.StatusOK, "No clients yet")

	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get("/admin/clients").want(t, http.StatusForbidden)
	c.post("/admin/clients", url.Values{"name": {"X"}, "redirect_uris": {"https://x.example.com/cb"}}).want(t, http.StatusForbidden)
}

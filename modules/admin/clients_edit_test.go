package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestClientEdit(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	r := c.post("/admin/clients", url.Values{"name": {"Wiki"}, "redirect_uris": {"https://wiki.example.com/cb"}})
	r.want(t, http.StatusCreated)
	id := regexp.MustCompile(`client_id: (\S+)`).FindStringSubmatch(r.body)[1]
	edit := "/admin/clients/" + id + "/edit"

	c.get("/admin/clients").want(t, http.StatusOK, `action="/admin/clients/`+id+`/edit"`, `aria-label="Edit Wiki"`)
	c.get(edit).want(t, http.StatusOK, `<label for="redirect_uris">Redirect URIs</label>`, `<label for="scopes">Scopes</label>`,
		"<legend>Grant types</legend>", `value="authorization_code" checked`, `<label for="first_party">First-party`, ">Save client</button>")

	c.post(edit, url.Values{"name": {"Wiki"}, "redirect_uris": {"https://wiki.example.com/cb\nhttps://wiki.example.com/cb2"},
		"scopes": {"users:read"}, "grant_types": {"authorization_code", "refresh_token", "client_credentials"}, "first_party": {"on"}}).
		want(t, http.StatusSeeOther)
	cl, err := c.clients.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !cl.FirstParty || !slices.Equal(cl.RedirectURIs, []string{"https://wiki.example.com/cb", "https://wiki.example.com/cb2"}) ||
		!slices.Equal(cl.Scopes, []string{"users:read"}) || !slices.Contains(cl.GrantTypes, "client_credentials") {
		t.Errorf("after the edit: %+v", cl)
	}
	r = c.post(edit, url.Values{"name": {"Wiki"}, "redirect_uris": {"not a uri"}, "grant_types": {"authorization_code"}})
	r.want(t, http.StatusUnprocessableEntity, "redirect", `value="Wiki"`, "not a uri")
	if strings.Contains(r.body, `value="client_credentials" checked`) {
		t.Error("the form after an error does not show what was posted")
	}
	c.post(edit, url.Values{"name": {"Wiki"}, "redirect_uris": {"https://wiki.example.com/cb"}, "grant_types": {"password"}}).
		want(t, http.StatusUnprocessableEntity, "grant")
	if ev := c.events(); !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "client.update by "+c.as) }) {
		t.Errorf("no client.update by the console user in %v", ev)
	}

	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get(edit).want(t, http.StatusForbidden)
	c.post(edit, url.Values{"name": {"X"}}).want(t, http.StatusForbidden)
}

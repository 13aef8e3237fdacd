package clients

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

func TestOriginOf(t *testing.T) {
	for raw, want := range map[string]string{
		"https://App.Example/cb":         "https://app.example",
		"https://app.example:443/cb":     "https://app.example",
		"https://app.example:8443/cb?x":  "https://app.example:8443",
		"http://127.0.0.1:3000/callback": "http://127.0.0.1:3000",
		"http://localhost:80/cb":         "http://localhost",
		"com.example.app:/cb":            "",
		"javascript:alert(1)":            "",
	} {
		if got := originOf(raw); got != want {
			t.Errorf("originOf(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestIsRedirectOrigin: the origins of every client's redirect URIs, and a
// change through the service is seen at once (the cache is invalidated).
func TestIsRedirectOrigin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		s := New(db, Deps{Audit: audit.New(db)}, Options{CacheTTL: time.Hour})
		ctx := oidctest.SystemCtx()
		is := func(origin string) bool {
			t.Helper()
			ok, err := s.IsRedirectOrigin(ctx, origin)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if is("https://app.example") {
			t.Errorf("an origin allowed with no client registered")
		}
		c, _ := mustCreate(t, s, NewClient{Name: "a", RedirectURIs: []string{"https://app.example/cb"}})
		if !is("https://app.example") || is("https://evil.example") || is("https://app.example:8443") {
			t.Errorf("origins after create: app %v evil %v other port %v", is("https://app.example"), is("https://evil.example"), is("https://app.example:8443"))
		}
		uris := []string{"https://new.example/cb"}
		if _, err := s.Update(ctx, c.ID, ClientUpdate{RedirectURIs: &uris}); err != nil {
			t.Fatal(err)
		}
		if is("https://app.example") || !is("https://new.example") {
			t.Errorf("origins after update not refreshed")
		}
		if err := s.Delete(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if is("https://new.example") {
			t.Errorf("a deleted client's origin is still allowed")
		}
	})
}

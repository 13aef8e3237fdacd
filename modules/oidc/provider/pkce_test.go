package provider

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

// TestPKCERequiredByDefault: every client using the code flow must send a
// code_challenge (RFC 9700 §2.1.1) unless a confidential client opted out;
// a public client cannot opt out.
func TestPKCERequiredByDefault(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		authorize := func(clientID string, opts ...oauth2.AuthCodeOption) *url.URL {
			t.Helper()
			cfg := &oauth2.Config{ClientID: clientID, RedirectURL: "https://app.test/cb",
				Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize"}, Scopes: []string{"openid"}}
			resp, err := oidctest.NoRedirect.Get(cfg.AuthCodeURL("st", opts...))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("authorize: %d", resp.StatusCode)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			return loc
		}
		refused := func(loc *url.URL) bool {
			q := loc.Query()
			return q.Get("error") == "invalid_request" && strings.Contains(q.Get("error_description"), "code_challenge required") && q.Get("state") == "st"
		}

		web, _ := mustCreateClient(t, ts.p, clients.NewClient{Name: "web", RedirectURIs: []string{"https://app.test/cb"}})
		if !web.RequirePKCE {
			t.Errorf("a new confidential client does not require PKCE by default")
		}
		if loc := authorize(web.ID); !refused(loc) {
			t.Errorf("confidential client without code_challenge: redirected to %s, want error=invalid_request \"code_challenge required\"", loc)
		}
		if loc := authorize(web.ID, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())); !strings.HasPrefix(loc.String(), "/login?authRequestID=") {
			t.Errorf("confidential client with PKCE: redirected to %s, want the sign-in page", loc)
		}

		off := false
		legacy, _ := mustCreateClient(t, ts.p, clients.NewClient{Name: "legacy", RedirectURIs: []string{"https://app.test/cb"}, RequirePKCE: &off})
		if loc := authorize(legacy.ID); !strings.HasPrefix(loc.String(), "/login?authRequestID=") {
			t.Errorf("opted-out confidential client without code_challenge: redirected to %s, want the sign-in page", loc)
		}
		on := true
		if _, err := registry(ts.p).Update(oidctest.SystemCtx(), legacy.ID, clients.ClientUpdate{RequirePKCE: &on}); err != nil {
			t.Fatal(err)
		}
		if loc := authorize(legacy.ID); !refused(loc) {
			t.Errorf("after opting back in: redirected to %s, want code_challenge required", loc)
		}

		var ve *validation.Error
		_, _, err := registry(ts.p).Create(oidctest.SystemCtx(), clients.NewClient{Name: "spa", Public: true, RedirectURIs: []string{"https://app.test/cb"}, RequirePKCE: &off})
		if !errors.As(err, &ve) || ve.Field != "require_pkce" {
			t.Errorf("public client opting out of PKCE: %v, want a require_pkce validation error", err)
		}
		spa, _ := mustCreateClient(t, ts.p, clients.NewClient{Name: "spa", Public: true, RedirectURIs: []string{"https://app.test/cb"}})
		if _, err := registry(ts.p).Update(oidctest.SystemCtx(), spa.ID, clients.ClientUpdate{RequirePKCE: &off}); !errors.As(err, &ve) || ve.Field != "require_pkce" {
			t.Errorf("public client updated to opt out of PKCE: %v, want a require_pkce validation error", err)
		}
	})
}

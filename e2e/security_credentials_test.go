package e2e

import (
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOwnCredentialsNeedCurrentPassword: a user's own API key — even one
// scoped to users:update — cannot change the user's password or email
// without the current password (a stolen key is not an account takeover);
// a wrong one changes nothing; the right one works, and an admin may still
// set another user's password without it (CONTRACT "Password and email").
func TestOwnCredentialsNeedCurrentPassword(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	p := newProvider(t, srv)
	id := createUser(t, srv, "carol@example.com", "carol's first passphrase")
	full := api(srv, createAPIKey(t, srv, "carol@example.com", "full"))
	scoped := api(srv, createAPIKey(t, srv, "carol@example.com", "scoped", "--scope", "users:update", "--scope", "users:read"))

	for name, c := range map[string]*apiClient{"full key": full, "users:update key": scoped} {
		assertProblem(t, c.do(t, "PUT", "/users/"+id+"/password", map[string]any{"password": "mallory's passphrase"}), http.StatusForbidden)
		assertProblem(t, c.do(t, "PUT", "/users/"+id+"/password", map[string]any{"password": "mallory's passphrase", "current_password": "wrong"}), http.StatusForbidden)
		assertProblem(t, c.do(t, "PATCH", "/users/"+id, map[string]any{"email": "mallory@example.com"}), http.StatusForbidden)
		var u userDTO
		full.get(t, "/users/"+id).expect(t, http.StatusOK).decode(t, &u)
		if u.Email != "carol@example.com" {
			t.Fatalf("%s changed the email to %s without the current password", name, u.Email)
		}
	}
	// The refused attempts left the old password in place.
	signInForTokens(t, srv, p, client, "carol@example.com", "carol's first passphrase", oidc.ScopeOpenID)

	full.do(t, "PUT", "/users/"+id+"/password", map[string]any{"password": "carol's second passphrase", "current_password": "carol's first passphrase"}).
		expect(t, http.StatusNoContent)
	admin := api(srv, srv.AdminKey(t))
	admin.do(t, "PUT", "/users/"+id+"/password", map[string]any{"password": "carol's third passphrase"}).expect(t, http.StatusNoContent)
	signInForTokens(t, srv, p, client, "carol@example.com", "carol's third passphrase", oidc.ScopeOpenID)
}

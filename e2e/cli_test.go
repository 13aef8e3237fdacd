package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestUsersAndKeysCLI: `users create` prints an id the API knows, with the
// roles given; `apikeys create` prints a working secret; mistakes exit
// non-zero with a one-line reason and change nothing.
func TestUsersAndKeysCLI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	id := createUser(t, srv, "cli@example.com", "a password with spaces ", "auditor")
	var u userDTO
	api(srv, srv.AdminKey(t)).get(t, "/users/"+id).expect(t, http.StatusOK).decode(t, &u)
	if u.Email != "cli@example.com" || u.Name != "User cli@example.com" || !contains(u.Roles, "auditor") {
		t.Errorf("user made by the CLI = %+v", u)
	}
	key := createAPIKey(t, srv, "cli@example.com", "cli-key")
	api(srv, key).get(t, "/users/"+id).expect(t, http.StatusOK)

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate email", "pw-123456789\n", []string{"users", "create", "--email", "CLI@example.com", "--password-stdin"}, "email"},
		{"unknown role", "pw-123456789\n", []string{"users", "create", "--email", "r@example.com", "--role", "emperor", "--password-stdin"}, "emperor"},
		{"invalid email", "pw-123456789\n", []string{"users", "create", "--email", "nope", "--password-stdin"}, "email"},
		{"key for unknown user", "", []string{"apikeys", "create", "--user", "ghost@example.com", "--name", "x"}, "ghost@example.com"},
		{"key without name", "", []string{"apikeys", "create", "--user", "cli@example.com"}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, srv, tc.stdin, tc.args...)
			if res.Code == 0 {
				t.Fatalf("exit 0, want failure; stdout %q", res.Stdout)
			}
			msg := strings.TrimSpace(res.Stderr)
			if msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("stderr = %q, want one line", res.Stderr)
			}
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.want)) {
				t.Errorf("stderr = %q, want it to mention %q", msg, tc.want)
			}
			if strings.TrimSpace(res.Stdout) != "" {
				t.Errorf("a failed command printed %q on stdout", res.Stdout)
			}
		})
	}
	var list page[userDTO]
	api(srv, srv.AdminKey(t)).get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &list)
	for _, x := range list.Items {
		if x.Email == "r@example.com" || x.Email == "nope" {
			t.Errorf("a failed users create left %+v", x)
		}
	}
}

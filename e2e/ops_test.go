package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOperations: health, readiness, metrics, the OpenAPI document and the
// security headers, on both databases.
func TestOperations(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})

		var body map[string]string
		r := get(t, srv.URL+"/healthz").expect(t, http.StatusOK)
		r.decode(t, &body)
		if body["status"] != "ok" {
			t.Errorf("/healthz = %s, want {\"status\":\"ok\"}", r.Body)
		}
		r = get(t, srv.URL+"/readyz").expect(t, http.StatusOK)
		r.decode(t, &body)
		if body["status"] != "ready" {
			t.Errorf("/readyz = %s, want {\"status\":\"ready\"}", r.Body)
		}

		m := get(t, srv.URL+"/metrics").expect(t, http.StatusOK)
		text := string(m.Body)
		for _, want := range []string{
			"gatehouse_http_requests_total",
			`route="/healthz"`,
			"go_goroutines",
			`go_sql_max_open_connections{db_name="gatehouse"}`, // database pool stats
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("/metrics Content-Type = %q, want Prometheus text", ct)
		}

		// Every response carries the security headers.
		for _, h := range []http.Header{r.Header, m.Header} {
			assertSecurityHeaders(t, h)
		}
	})
}

func assertSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want one without unsafe-inline and with frame-ancestors 'none'", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", h.Get("X-Content-Type-Options"))
	}
	if h.Get("Referrer-Policy") == "" {
		t.Error("Referrer-Policy missing")
	}
}

// TestOpenAPIDocument: /api/v1/openapi.json is public, valid JSON, OpenAPI 3,
// and describes the users API.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	r := get(t, srv.URL+"/api/v1/openapi.json").expect(t, http.StatusOK)
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	r.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("the OpenAPI document has no paths")
	}
	found := false
	for p := range doc.Paths {
		found = found || strings.HasSuffix(p, "/users")
	}
	if !found {
		t.Errorf("the OpenAPI document has no /users path; paths: %v", keys(doc.Paths))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestVersion: `gatehouse version` prints the version stamped at build time.
func TestVersion(t *testing.T) {
	t.Parallel()
	srv := &server{DataDir: t.TempDir()}
	out := mustCLI(t, srv, "", "version")
	if out != "gatehouse "+testVersion {
		t.Errorf("gatehouse version = %q, want %q", out, "gatehouse "+testVersion)
	}
}

// TestCLIErrors: a bad command line or configuration exits non-zero with a
// one-line reason on stderr.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	srv := &server{DataDir: t.TempDir(), env: []string{"GATEHOUSE_MASTER_KEY=" + newMasterKey()}}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, "frobnicate"},
		{"users create without email", nil, []string{"users", "create", "--password-stdin"}, "email"},
		{"bad log format", []string{"GATEHOUSE_LOG_FORMAT=xml"}, []string{"version"}, "log"},
		{"bad database url", []string{"GATEHOUSE_DATABASE_URL=mysql://x"}, []string{"migrate", "status"}, "GATEHOUSE_DATABASE_URL"},
		{"public issuer without master key", []string{"GATEHOUSE_ISSUER=https://id.example.com", "GATEHOUSE_MASTER_KEY="}, []string{"serve"}, "GATEHOUSE_MASTER_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{DataDir: srv.DataDir, env: append(append([]string{}, srv.env...), tc.env...)}
			res := runCLI(t, s, "", tc.args...)
			if res.Code == 0 {
				t.Fatalf("exit 0, want failure; stdout %q", res.Stdout)
			}
			msg := strings.TrimSpace(res.Stderr)
			if msg == "" || strings.Count(msg, "\n") > 0 {
				t.Errorf("stderr = %q, want a one-line reason", res.Stderr)
			}
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.want)) {
				t.Errorf("stderr = %q, want it to mention %q", msg, tc.want)
			}
		})
	}
}

// TestMigrateCommands: `migrate status` on a fresh database shows pending
// migrations, `migrate up` applies them, a second run is a no-op, and a
// server then starts on that database.
func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := &server{DataDir: t.TempDir(), DB: db}
		srv.DatabaseURL = newDatabaseURL(t, db)
		srv.env = []string{"GATEHOUSE_DATABASE_URL=" + srv.DatabaseURL, "GATEHOUSE_MASTER_KEY=" + newMasterKey()}

		before := mustCLI(t, srv, "", "migrate", "status")
		if !strings.Contains(before, "pending") {
			t.Errorf("migrate status on a fresh database = %q, want pending migrations", before)
		}
		up := mustCLI(t, srv, "", "migrate", "up")
		again := mustCLI(t, srv, "", "migrate", "up")
		after := mustCLI(t, srv, "", "migrate", "status")
		line := regexp.MustCompile(`(?m)^(\S+)\s+version (\d+) of (\d+) \(up to date\)$`)
		for _, out := range []string{up, again, after} {
			lines := strings.Split(out, "\n")
			if len(lines) < 2 {
				t.Errorf("migrate output %q, want one line per module", out)
			}
			for _, l := range lines {
				m := line.FindStringSubmatch(l)
				if m == nil || m[2] != m[3] || m[2] == "0" {
					t.Errorf("migrate line %q, want `<module> version N of N (up to date)`", l)
				}
			}
		}
		for _, module := range []string{"audit", "identity"} {
			if !strings.Contains(after, module) {
				t.Errorf("migrate status does not list module %s:\n%s", module, after)
			}
		}
		startServer(t, serverOpts{DatabaseURL: srv.DatabaseURL})
	})
}

// TestFirstStartSetupLink: with no admin and no bootstrap variables the log
// tells how to get in: a one-time /setup link.
func TestFirstStartSetupLink(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{NoBootstrapAdmin: true})
	if !srv.waitLog("/setup?token=", 10*time.Second) {
		t.Fatalf("the first start without an admin logged no /setup?token= link:\n%s", srv.Logs())
	}
	link := regexp.MustCompile(`https?://[^\s"]+/setup\?token=[A-Za-z0-9_\-]+`).FindString(srv.Logs())
	if !strings.HasPrefix(link, srv.URL+"/setup?token=") {
		t.Errorf("setup link %q does not start with the issuer %s", link, srv.URL)
	}
}

// TestBootstrapAdmin: GATEHOUSE_BOOTSTRAP_ADMIN_* creates an admin whose API
// key can do admin things; a restart does not create it twice; no setup link
// is logged.
func TestBootstrapAdmin(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})
		c := api(srv, srv.AdminKey(t))
		var list page[userDTO]
		c.get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &list)
		var admins []userDTO
		for _, u := range list.Items {
			if u.Email == srv.AdminEmail {
				admins = append(admins, u)
			}
		}
		if len(admins) != 1 || !contains(admins[0].Roles, "admin") || admins[0].Status != "active" {
			t.Fatalf("users = %+v, want exactly one active admin %s with role admin", list.Items, srv.AdminEmail)
		}
		if strings.Contains(srv.Logs(), "/setup?token=") {
			t.Error("a setup link was logged although the bootstrap admin exists")
		}

		// A second server on the same database with the same variables.
		if db == sqliteDB {
			return // one SQLite file per process in these tests; replicas are PostgreSQL
		}
		srv2 := startServer(t, serverOpts{DatabaseURL: srv.DatabaseURL, MasterKey: srv.MasterKey, Env: []string{
			"GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL=" + srv.AdminEmail,
			"GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD=" + srv.AdminPassword,
		}, NoBootstrapAdmin: true})
		list = page[userDTO]{}
		api(srv2, srv.AdminKey(t)).get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &list)
		n := 0
		for _, u := range list.Items {
			if u.Email == srv.AdminEmail {
				n++
			}
		}
		if n != 1 {
			t.Errorf("after a second start there are %d users %s, want 1", n, srv.AdminEmail)
		}
	})
}

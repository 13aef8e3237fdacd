package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeScript is axe-core's browser bundle, which make test installs outside
// the repository (scripts/test-deps.sh); GATEHOUSE_AXE_DIR overrides the
// place. A missing bundle fails the test: the audit must never pass by not
// running.
func axeScript(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_AXE_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "gatehouse-axe")
	}
	p := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run make test-deps (npm install --prefix %s axe-core@4)", err, dir)
	}
	return string(b)
}

// axeViolation is one failed axe rule, with a few of the nodes it failed on.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeAudit injects axe-core into the page (through the DevTools protocol,
// so the page's CSP stays as it is) and returns its serious and critical
// violations.
func axeAudit(t *testing.T, ctx context.Context, script string) []axeViolation {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Evaluate[chromedp.Void](script)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	const run = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + (n.failureSummary || ''))})))`
	raw, err := chromedp.Run(c, chromedp.Evaluate[[]byte](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var out []axeViolation
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("axe-core result %s: %v", raw, err)
	}
	return out
}

// artifactDir is where screenshots go: $GATEHOUSE_ARTIFACTS (kept after the
// run, never in the repository) or the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "admin-console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes a full-page PNG of the tab at width (CSS pixels).
func screenshot(t *testing.T, ctx context.Context, width int64, path string) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	height := int64(900)
	if width < 600 {
		opts, height = append(opts, chromedp.EmulateMobile), 844
	}
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.EmulateViewport(width, height, opts...)); err != nil {
		t.Fatalf("viewport %d: %v", width, err)
	}
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAdminAccessibility audits every main console page with axe-core (no
// serious or critical violation at desktop and phone widths) and writes a
// full-page screenshot of each at 1280 and 390 CSS pixels.
func TestAdminAccessibility(t *testing.T) {
	t.Parallel()
	script := axeScript(t)
	srv := startServer(t, serverOpts{})
	userID := createUser(t, srv, "nora@example.com", "nora's long passphrase", "auditor")
	var cl struct {
		ClientID string `json:"client_id"`
	}
	out := mustCLI(t, srv, "", "clients", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/callback")
	if err := json.Unmarshal([]byte(out), &cl); err != nil || cl.ClientID == "" {
		t.Fatalf("clients create printed %q: %v", out, err)
	}
	ctx := newBrowser(t)
	// A failed sign-in first, so the overview's charts have both series.
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin/overview")
	browserSignIn(t, ctx, srv.AdminEmail, "not the password")
	browserWaitText(t, ctx, "Incorrect email/username or password.")
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin/overview")
	browserSignIn(t, ctx, srv.AdminEmail, srv.AdminPassword)
	waitPath(t, ctx, "/admin/overview")

	dir := artifactDir(t)
	pages := []struct{ name, path string }{
		{"overview", "/admin/overview"},
		{"users", "/admin/users"},
		{"user-new", "/admin/users/new"},
		{"user", "/admin/users/" + userID},
		{"roles", "/admin/roles"},
		{"clients", "/admin/clients"},
		{"client-new", "/admin/clients/new"},
		{"client-edit", "/admin/clients/" + cl.ClientID + "/edit"},
		{"api-keys", "/admin/api-keys"},
		{"policies", "/admin/policies"},
		{"audit", "/admin/audit"},
		{"audit-filtered", "/admin/audit?action=user.create&target=user:" + userID + "&since=2020-01-01T00:00&until=2099-12-31T23:59:59"},
		{"audit-bad-filter", "/admin/audit?actor=nora&since=yesterday"},
		{"signing-keys", "/admin/signing-keys"},
	}
	var report []string
	for _, p := range pages {
		browserNavigate(t, ctx, srv.URL+p.path)
		path, _, _ := strings.Cut(p.path, "?")
		if u := browserLocation(t, ctx); u.Path != path {
			t.Fatalf("%s: the browser is at %s", p.path, u)
		}
		for _, width := range []int64{1280, 390} {
			screenshot(t, ctx, width, filepath.Join(dir, fmt.Sprintf("%s-%d.png", p.name, width)))
			for _, v := range axeAudit(t, ctx, script) {
				report = append(report, fmt.Sprintf("%s at %dpx: %s (%s) %s\n\t%s", p.path, width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t")))
			}
		}
		browserDo(t, ctx, "reset the viewport", chromedp.EmulateViewport(1280, 900))
	}
	if len(report) > 0 {
		t.Errorf("axe-core found serious or critical violations:\n%s", strings.Join(report, "\n"))
	}
	t.Logf("screenshots in %s", dir)
}

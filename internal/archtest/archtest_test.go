// Package archtest checks the architecture's rules that the compiler does
// not: the import graph between modules, table ownership in migrations, and
// the parity of the two SQL dialects. Each failure names the file or package
// and the rule, so the fix is obvious.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

const modPath = "github.com/gatehouse/gatehouse"

// allowedModuleImports: module → the modules it may import (DTOs, errors,
// listener interfaces). "*" means any module (the admin console composes
// the others). A module missing here fails the test until its rule is added.
var allowedModuleImports = map[string][]string{
	"identity": {"audit"},
	"audit":    {},
	"apikeys":  {"identity", "audit"},
	"authz":    {"identity", "audit"},
	"passkeys": {"identity", "audit"},
	"oidc":     {"identity", "passkeys", "authz", "audit"},
	"admin":    {"*"},
	"mail":     {},
}

// goPackage is the part of `go list -json` we read.
type goPackage struct {
	ImportPath   string
	Dir          string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
	GoFiles      []string
}

var (
	listOnce sync.Once
	listed   []goPackage
	listErr  error
	rootDir  string
)

// modulePackages lists the main module's packages with `go list`, so the
// test needs no dependency beyond the go command itself.
func modulePackages(t *testing.T) []goPackage {
	t.Helper()
	listOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			listErr = err
			return
		}
		rootDir = filepath.Dir(strings.TrimSpace(string(out)))
		cmd := exec.Command("go", "list", "-e", "-json", "./...")
		cmd.Dir = rootDir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err := cmd.Output()
		if err != nil {
			listErr = errors.New(err.Error() + ": " + stderr.String())
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		for {
			var p goPackage
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				listErr = err
				return
			}
			listed = append(listed, p)
		}
	})
	if listErr != nil {
		t.Fatalf("go list: %v", listErr)
	}
	if len(listed) < 5 {
		t.Fatalf("go list found only %d packages", len(listed))
	}
	return listed
}

// rel returns the path of an import inside this module ("" if outside).
func rel(importPath string) string {
	if importPath == modPath {
		return "."
	}
	r, ok := strings.CutPrefix(importPath, modPath+"/")
	if !ok {
		return ""
	}
	return r
}

// moduleOf returns "identity" for modules/identity/... ("" otherwise).
func moduleOf(relPath string) string {
	r, ok := strings.CutPrefix(relPath, "modules/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(r, "/")
	return name
}

// checkImport returns why from (a package of this module) may not import
// to, or "" when it may. test is true for test-only imports.
// oidcHalves are the two halves of the oidc module: the browser side
// (sign-in pages, sessions, lockout) and the OpenID Provider. They meet only
// in modules/oidc/flow and in the façade (modules/oidc), never directly, so
// either can change without the other (ARCHITECTURE "Inside oidc").
var oidcHalves = []string{"modules/oidc/signin", "modules/oidc/provider"}

// checkOIDCHalves refuses an import from one oidc half into the other, and
// from any oidc sub-package into the façade above it.
func checkOIDCHalves(from, to string) string {
	within := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, a := range oidcHalves {
		for _, b := range oidcHalves {
			if a != b && within(from, a) && within(to, b) {
				return "signin and provider never import each other; they meet in modules/oidc/flow"
			}
		}
	}
	if within(from, "modules/oidc/clients") && (within(to, "modules/oidc/provider") || within(to, "modules/oidc/signin")) {
		return "the client registry (modules/oidc/clients) imports neither provider nor signin; the provider consumes it through its own ClientLookup"
	}
	if strings.HasPrefix(from, "modules/oidc/") && to == "modules/oidc" {
		return "an oidc sub-package does not import the façade (modules/oidc) above it"
	}
	return ""
}

func checkImport(from, to string, test bool) string {
	if to == "" || to == "." {
		return ""
	}
	if strings.HasPrefix(to, "cmd/") {
		return "nothing imports cmd/ (main wires; it is never a dependency)"
	}
	if strings.HasPrefix(to, "e2e") {
		return "nothing imports the e2e tests"
	}
	fromMod, toMod := moduleOf(from), moduleOf(to)
	switch {
	case strings.HasPrefix(from, "internal/"):
		if toMod != "" {
			return "the kernel (internal/) imports no module"
		}
		if to == "migrations" && from != "internal/testutil" && !test {
			return "only internal/testutil may import migrations"
		}
		if to == "web" {
			if test {
				return ""
			}
			return "the kernel (internal/) does not import web/"
		}
	case from == "web" || strings.HasPrefix(from, "web/"):
		if toMod != "" {
			return "web/ imports no module"
		}
	case from == "migrations":
		if toMod != "" {
			return "migrations import no module"
		}
	case fromMod != "":
		if to == "migrations" && !test {
			return "a module's code does not import migrations (main and testutil run them)"
		}
		if why := checkOIDCHalves(from, to); why != "" {
			return why
		}
		if toMod == "" || toMod == fromMod {
			return ""
		}
		// A module that mails notices declares its own Notifier; its tests
		// may use the real outbox to prove a notice is queued in the
		// change's transaction (no mock of what we own).
		if test && toMod == "mail" {
			return ""
		}
		allowed, known := allowedModuleImports[fromMod]
		if !known {
			return "module " + fromMod + " has no import rule in internal/archtest (add one, following ARCHITECTURE.md)"
		}
		for _, a := range allowed {
			if a == "*" || a == toMod {
				return ""
			}
		}
		return "module " + fromMod + " may import only " + strings.Join(allowed, ", ") + " of the modules (ARCHITECTURE.md import graph)"
	}
	return ""
}

// TestImportGraph checks every import of every package in the module
// against the architecture's graph.
func TestImportGraph(t *testing.T) {
	pkgs := modulePackages(t)
	sawModule := false
	for _, p := range pkgs {
		from := rel(p.ImportPath)
		if moduleOf(from) != "" {
			sawModule = true
		}
		check := func(imports []string, test bool) {
			for _, imp := range imports {
				if why := checkImport(from, rel(imp), test); why != "" {
					t.Errorf("%s imports %s: %s", from, rel(imp), why)
				}
			}
		}
		check(p.Imports, false)
		check(p.TestImports, true)
		check(p.XTestImports, true)
	}
	if !sawModule {
		t.Error("no package under modules/ found: go list is not seeing the tree")
	}
}

// TestImportRules pins checkImport itself, so a loosened rule shows up here.
func TestImportRules(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		test     bool
		ok       bool
	}{
		{"modules/identity", "modules/audit", false, true},
		{"modules/identity", "modules/oidc", false, false},
		{"modules/identity", "internal/database", false, true},
		{"modules/audit", "modules/identity", false, false},
		{"modules/apikeys", "modules/identity", false, true},
		{"modules/apikeys", "modules/authz", false, false},
		{"modules/authz", "modules/identity", false, true},
		{"modules/authz", "modules/oidc", false, false},
		{"modules/oidc", "modules/authz", false, true},
		{"modules/oidc", "modules/passkeys", false, true},
		{"modules/oidc", "modules/apikeys", false, false},
		{"modules/oidc/sub", "modules/oidc", false, false},
		{"modules/oidc", "modules/oidc/signin", false, true},
		{"modules/oidc", "modules/oidc/provider", false, true},
		{"modules/oidc/signin", "modules/oidc/flow", false, true},
		{"modules/oidc/provider", "modules/oidc/flow", false, true},
		{"modules/oidc/provider", "modules/oidc/internal/secret", false, true},
		{"modules/oidc/signin", "modules/oidc/provider", false, false},
		{"modules/oidc/signin", "modules/oidc/provider", true, false},
		{"modules/oidc/provider", "modules/oidc/signin", false, false},
		{"modules/oidc/provider/x", "modules/oidc/signin/y", false, false},
		{"modules/oidc/signin", "modules/oidc/clients", false, true},
		{"modules/oidc/provider", "modules/oidc/clients", false, true},
		{"modules/oidc/clients", "modules/oidc/provider", false, false},
		{"modules/oidc/clients", "modules/oidc/signin", true, false},
		{"modules/oidc/clients", "modules/oidc/internal/secret", false, true},
		{"modules/admin", "modules/oidc", false, true},
		{"modules/newthing", "modules/identity", false, false},
		{"modules/identity", "cmd/gatehouse", false, false},
		{"modules/identity", "migrations", false, false},
		{"modules/identity", "migrations", true, true},
		{"internal/httpserver", "modules/audit", false, false},
		{"internal/httpserver", "modules/audit", true, false},
		{"internal/testutil", "migrations", false, true},
		{"internal/database", "migrations", false, false},
		{"internal/httpserver", "web", true, true},
		{"internal/httpserver", "web", false, false},
		{"web", "modules/identity", false, false},
		{"migrations", "internal/database", false, true},
		{"cmd/gatehouse", "modules/oidc", false, true},
	} {
		why := checkImport(tc.from, tc.to, tc.test)
		if (why == "") != tc.ok {
			t.Errorf("checkImport(%s → %s, test=%v) = %q, want allowed=%v", tc.from, tc.to, tc.test, why, tc.ok)
		}
	}
}

// TestNoForeignConstructors: a consumer imports a provider's DTOs, errors and
// interfaces, never its constructor — only main (and the admin console)
// builds services.
func TestNoForeignConstructors(t *testing.T) {
	for _, p := range modulePackages(t) {
		from := rel(p.ImportPath)
		fromMod := moduleOf(from)
		if fromMod == "" || fromMod == "admin" {
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			names := map[string]string{} // local name → module
			for _, imp := range file.Imports {
				ip := strings.Trim(imp.Path.Value, `"`)
				m := moduleOf(rel(ip))
				if m == "" || m == fromMod {
					continue
				}
				local := filepath.Base(ip)
				if imp.Name != nil {
					local = imp.Name.Name
				}
				names[local] = m
			}
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				if m, ok := names[id.Name]; ok && (strings.HasPrefix(sel.Sel.Name, "New") || sel.Sel.Name == "Module") {
					t.Errorf("%s uses %s.%s: a module receives other modules' services from main, it does not construct them", relFile(path), m, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// TestExportedTypesHaveNoGormTags: rows are unexported; other modules see
// DTOs without persistence details.
func TestExportedTypesHaveNoGormTags(t *testing.T) {
	for _, p := range modulePackages(t) {
		if moduleOf(rel(p.ImportPath)) == "" {
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			for _, d := range file.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					st, ok := ts.Type.(*ast.StructType)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					for _, fld := range st.Fields.List {
						if fld.Tag != nil && strings.Contains(fld.Tag.Value, `gorm:"`) {
							t.Errorf("%s: exported type %s has gorm tags; keep rows unexported (store.go) and export a DTO", relFile(path), ts.Name.Name)
							break
						}
					}
				}
			}
		}
	}
}

// TestNoInitFunctions: no init() registration in the kernel or the modules;
// dependencies are constructor arguments.
func TestNoInitFunctions(t *testing.T) {
	for _, p := range modulePackages(t) {
		r := rel(p.ImportPath)
		if moduleOf(r) == "" && !strings.HasPrefix(r, "internal/") {
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			for _, d := range file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "init" {
					t.Errorf("%s: func init(); wire it in cmd/gatehouse instead", relFile(path))
				}
			}
		}
	}
}

func relFile(path string) string {
	if r, err := filepath.Rel(rootDir, path); err == nil {
		return r
	}
	return path
}

// --- migrations ------------------------------------------------------------

var (
	reCreateTable = regexp.MustCompile(`(?is)\bcreate\s+(?:temp(?:orary)?\s+)?table\s+(?:if\s+not\s+exists\s+)?([\w."]+)`)
	reIndex       = regexp.MustCompile(`(?is)\bcreate\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?([\w."]+)\s+on\s+(?:only\s+)?([\w."]+)`)
	reAlterDrop   = regexp.MustCompile(`(?is)\b(?:alter|drop)\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?([\w."]+)`)
	reReferences  = regexp.MustCompile(`(?is)\breferences\s+([\w."]+)`)
	reFileName    = regexp.MustCompile(`^(\d{5})_[a-z0-9]+(?:_[a-z0-9]+)*\.sql$`)
)

func unquote(name string) string {
	name = strings.ReplaceAll(name, `"`, "")
	if i := strings.LastIndex(name, "."); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}

// stripComments removes SQL line comments except goose annotations, so a
// commented-out statement is not checked.
func stripComments(sql string) string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") && !strings.HasPrefix(trimmed, "-- +goose") {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 && !strings.Contains(line, "-- +goose") {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func migrationsDir(t *testing.T) string {
	modulePackages(t) // sets rootDir
	return filepath.Join(rootDir, "migrations")
}

// migrationModules lists migrations/<module> folders.
func migrationModules(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(migrationsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatal("no migrations/<module> folders")
	}
	return out
}

// checkSQL returns the rule violations of one migration file of module.
func checkSQL(module, sql string) []string {
	sql = stripComments(sql)
	prefix := module + "_"
	var bad []string
	if !strings.Contains(sql, "-- +goose Up") {
		bad = append(bad, "missing `-- +goose Up`")
	}
	if !strings.Contains(sql, "-- +goose Down") {
		bad = append(bad, "missing `-- +goose Down`")
	}
	for _, m := range reCreateTable.FindAllStringSubmatch(sql, -1) {
		if name := unquote(m[1]); !strings.HasPrefix(name, prefix) {
			bad = append(bad, "CREATE TABLE "+name+": tables of module "+module+" are named "+prefix+"...")
		}
	}
	for _, m := range reAlterDrop.FindAllStringSubmatch(sql, -1) {
		if name := unquote(m[1]); !strings.HasPrefix(name, prefix) {
			bad = append(bad, "ALTER/DROP TABLE "+name+": a module changes only its own tables")
		}
	}
	for _, m := range reIndex.FindAllStringSubmatch(sql, -1) {
		idx, table := unquote(m[1]), unquote(m[2])
		if !strings.HasPrefix(table, prefix) {
			bad = append(bad, "index "+idx+" on "+table+": a module indexes only its own tables")
		}
		if !strings.Contains(idx, prefix) {
			bad = append(bad, "index "+idx+": index names share one namespace per schema; include "+prefix)
		}
	}
	for _, m := range reReferences.FindAllStringSubmatch(sql, -1) {
		if name := unquote(m[1]); !strings.HasPrefix(name, prefix) {
			bad = append(bad, "REFERENCES "+name+": no foreign key crosses a module line")
		}
	}
	return bad
}

// TestMigrationTablesArePrefixed: every table, index and foreign key in
// migrations/<module>/ belongs to that module.
func TestMigrationTablesArePrefixed(t *testing.T) {
	root := migrationsDir(t)
	n := 0
	for _, module := range migrationModules(t) {
		err := filepath.WalkDir(filepath.Join(root, module), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			for _, why := range checkSQL(module, string(raw)) {
				t.Errorf("%s: %s", relFile(path), why)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no migration files found")
	}
}

// TestCheckSQL pins the SQL rules on small examples.
func TestCheckSQL(t *testing.T) {
	good := "-- +goose Up\nCREATE TABLE identity_users (id TEXT PRIMARY KEY);\nCREATE UNIQUE INDEX identity_users_email ON identity_users (email);\n" +
		"CREATE TABLE IF NOT EXISTS \"identity_roles\" (user_id TEXT REFERENCES identity_users(id));\n-- CREATE TABLE users (x int);\n" +
		"-- +goose Down\nDROP TABLE identity_roles;\nDROP TABLE IF EXISTS identity_users;\n"
	if bad := checkSQL("identity", good); len(bad) != 0 {
		t.Errorf("good migration rejected: %v", bad)
	}
	for name, sql := range map[string]string{
		"unprefixed table": "-- +goose Up\nCREATE TABLE users (id TEXT);\n-- +goose Down\nDROP TABLE identity_users;",
		"other's table":    "-- +goose Up\nCREATE TABLE audit_users (id TEXT);\n-- +goose Down\n",
		"index elsewhere":  "-- +goose Up\nCREATE INDEX identity_x ON audit_events (x);\n-- +goose Down\n",
		"index name":       "-- +goose Up\nCREATE INDEX idx_email ON identity_users (email);\n-- +goose Down\n",
		"foreign key":      "-- +goose Up\nCREATE TABLE identity_x (u TEXT REFERENCES oidc_clients(id));\n-- +goose Down\n",
		"alter other":      "-- +goose Up\nALTER TABLE oidc_clients ADD COLUMN x TEXT;\n-- +goose Down\n",
		"no down":          "-- +goose Up\nCREATE TABLE identity_x (id TEXT);\n",
	} {
		if bad := checkSQL("identity", sql); len(bad) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMigrationDialectParity: each module has the same migration files
// (version and name) for SQLite and PostgreSQL, well named, and a module
// package to own them.
func TestMigrationDialectParity(t *testing.T) {
	root := migrationsDir(t)
	for _, module := range migrationModules(t) {
		list := func(dialect string) []string {
			entries, err := os.ReadDir(filepath.Join(root, module, dialect))
			if err != nil {
				t.Errorf("migrations/%s/%s: %v", module, dialect, err)
				return nil
			}
			var names []string
			for _, e := range entries {
				if e.IsDir() {
					t.Errorf("migrations/%s/%s/%s: unexpected folder", module, dialect, e.Name())
					continue
				}
				if !reFileName.MatchString(e.Name()) {
					t.Errorf("migrations/%s/%s/%s: want NNNNN_verb_noun.sql", module, dialect, e.Name())
				}
				names = append(names, e.Name())
			}
			sort.Strings(names)
			return names
		}
		lite, pg := list("sqlite"), list("postgres")
		if len(lite) == 0 {
			t.Errorf("migrations/%s has no migrations", module)
		}
		if strings.Join(lite, ",") != strings.Join(pg, ",") {
			t.Errorf("migrations/%s: sqlite has %v, postgres has %v; the dialects must have the same versions", module, lite, pg)
		}
		seen := map[string]string{}
		for _, name := range lite {
			v := name[:5]
			if prev, dup := seen[v]; dup {
				t.Errorf("migrations/%s: %s and %s share version %s", module, prev, name, v)
			}
			seen[v] = name
		}
		if _, err := os.Stat(filepath.Join(rootDir, "modules", module)); err != nil {
			t.Errorf("migrations/%s has no modules/%s to own its tables", module, module)
		}
	}
}

// Package e2e drives the real gatehouse binary from outside: it is built once
// by TestMain, started per test on a free port with a fresh database (SQLite
// in a temp dir or a fresh PostgreSQL schema), and spoken to with plain
// net/http, the binary's own sub-commands and headless Chromium.
//
// Nothing here is skipped: a missing browser or database is a failure with a
// one-line reason (make test installs and starts both).
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// binPath is the gatehouse binary TestMain builds.
var binPath string

// testVersion is stamped into the binary with -ldflags.
const testVersion = "e2e-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: "+err.Error())
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "gatehouse")
	args := []string{"build", "-o", binPath, "-ldflags", "-X main.Version=" + testVersion}
	if raceEnabled {
		// The server runs with the race detector too when the tests do: a
		// data race makes it exit 66, which the graceful-stop check reports.
		args = append(args, "-race")
	}
	args = append(args, "github.com/gatehouse/gatehouse/cmd/gatehouse")
	cmd := exec.Command(goBinary(), args...)
	cmd.Dir = ".."
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build ./cmd/gatehouse failed: "+err.Error())
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goBinary() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// dbKind selects the database a server runs on.
type dbKind string

const (
	sqliteDB   dbKind = "sqlite"
	postgresDB dbKind = "postgres"
)

// forEachDB runs fn as a subtest on each dialect.
func forEachDB(t *testing.T, fn func(t *testing.T, db dbKind)) {
	t.Helper()
	for _, k := range []dbKind{sqliteDB, postgresDB} {
		t.Run(string(k), func(t *testing.T) { fn(t, k) })
	}
}

// serverOpts configure startServer. The zero value is a SQLite server with a
// bootstrap admin.
type serverOpts struct {
	DB dbKind
	// DatabaseURL reuses an existing database (two replicas); DB is then
	// derived from the URL.
	DatabaseURL string
	// MasterKey shared by replicas; generated when empty.
	MasterKey string
	// NoBootstrapAdmin starts without GATEHOUSE_BOOTSTRAP_ADMIN_*.
	NoBootstrapAdmin bool
	// Env adds or overrides variables (KEY=VALUE).
	Env []string
}

// server is a running gatehouse process.
type server struct {
	t             *testing.T
	URL           string // http://localhost:PORT (the issuer)
	Port          int
	DB            dbKind
	DatabaseURL   string
	MasterKey     string
	DataDir       string
	AdminEmail    string
	AdminPassword string
	env           []string
	cmd           *exec.Cmd
	logs          *syncBuffer
	exited        chan struct{}
	exitErr       error

	keyOnce  sync.Once
	adminKey string
}

// newDatabaseURL returns a fresh database of kind k.
func newDatabaseURL(t *testing.T, k dbKind) string {
	t.Helper()
	switch k {
	case sqliteDB, "":
		return "sqlite:" + filepath.Join(t.TempDir(), "data", "gatehouse.db")
	case postgresDB:
		return testutil.NewPostgresSchemaURL(t)
	}
	t.Fatalf("unknown database kind %q", k)
	return ""
}

// newMasterKey returns 32 random bytes, base64.
func newMasterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startServer starts `gatehouse serve` and waits until /readyz answers 200.
// Cleanup sends SIGTERM and requires exit status 0 (graceful shutdown); the
// server's log is printed when the test failed.
func startServer(t *testing.T, opts serverOpts) *server {
	t.Helper()
	dbURL := opts.DatabaseURL
	kind := opts.DB
	if dbURL == "" {
		dbURL = newDatabaseURL(t, kind)
	}
	if strings.HasPrefix(dbURL, "postgres") {
		kind = postgresDB
	} else {
		kind = sqliteDB
	}
	if opts.MasterKey == "" {
		opts.MasterKey = newMasterKey()
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := tryStart(t, opts, kind, dbURL)
		if err == nil {
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("start gatehouse: %v", lastErr)
	return nil
}

func tryStart(t *testing.T, opts serverOpts, kind dbKind, dbURL string) (*server, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		t:           t,
		Port:        port,
		URL:         "http://localhost:" + strconv.Itoa(port),
		DB:          kind,
		DatabaseURL: dbURL,
		MasterKey:   opts.MasterKey,
		DataDir:     t.TempDir(),
		logs:        &syncBuffer{},
		exited:      make(chan struct{}),
	}
	s.env = []string{
		"GATEHOUSE_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"GATEHOUSE_ISSUER=" + s.URL,
		"GATEHOUSE_DATABASE_URL=" + dbURL,
		"GATEHOUSE_MASTER_KEY=" + opts.MasterKey,
		"GATEHOUSE_LOG_FORMAT=text",
	}
	if !opts.NoBootstrapAdmin {
		s.AdminEmail = "admin@example.com"
		s.AdminPassword = "admin-" + randomHex(8)
		s.env = append(s.env,
			"GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL="+s.AdminEmail,
			"GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD="+s.AdminPassword)
	}
	s.env = append(s.env, opts.Env...)

	s.cmd = exec.Command(binPath, "serve")
	s.cmd.Dir = s.DataDir
	s.cmd.Env = s.processEnv()
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(90 * time.Second); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("%w\n--- server log ---\n%s", err, s.logs.String())
	}
	t.Cleanup(s.stop)
	return s, nil
}

// processEnv is the server's environment: the test's own minus GATEHOUSE_*
// (a developer's settings must not leak in), plus ours.
func (s *server) processEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "GATEHOUSE_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, s.env...)
}

func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("gatehouse serve exited before ready: %v", s.exitErr)
		default:
		}
		resp, err := client.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("gatehouse not ready on %s after %s", s.URL, limit)
}

// stop sends SIGTERM and checks for a clean exit.
func (s *server) stop() {
	t := s.t
	select {
	case <-s.exited:
		t.Errorf("gatehouse exited before the test ended: %v", s.exitErr)
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.exitErr != nil {
				t.Errorf("gatehouse did not shut down cleanly after SIGTERM: %v", s.exitErr)
			}
		case <-time.After(40 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("gatehouse did not stop within 40s of SIGTERM")
		}
	}
	if t.Failed() {
		t.Logf("--- gatehouse log (%s, %s) ---\n%s", s.URL, s.DB, s.logs.String())
	}
}

// Logs returns what the server has logged so far.
func (s *server) Logs() string { return s.logs.String() }

// waitLog waits until the log contains substr.
func (s *server) waitLog(substr string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(s.logs.String(), substr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for the process's writes and our reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliResult is a finished sub-command.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs `gatehouse args...` with the server's configuration (same
// database, issuer and master key), feeding stdin.
func runCLI(t *testing.T, srv *server, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = srv.DataDir
	cmd.Env = srv.processEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		t.Fatalf("run gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustCLI runs a sub-command that must succeed and returns its trimmed stdout.
func mustCLI(t *testing.T, srv *server, stdin string, args ...string) string {
	t.Helper()
	res := runCLI(t, srv, stdin, args...)
	if res.Code != 0 {
		t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	return strings.TrimSpace(res.Stdout)
}

// createUser creates a user through the CLI and returns its id.
func createUser(t *testing.T, srv *server, email, password string, roles ...string) string {
	t.Helper()
	args := []string{"users", "create", "--email", email, "--name", "User " + email, "--password-stdin"}
	for _, r := range roles {
		args = append(args, "--role", r)
	}
	id := mustCLI(t, srv, password+"\n", args...)
	if id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("users create printed %q, want the new id alone", id)
	}
	return id
}

// createAPIKey creates an API key for the user with that email and returns
// the secret.
func createAPIKey(t *testing.T, srv *server, email, name string, extra ...string) string {
	t.Helper()
	args := append([]string{"apikeys", "create", "--user", email, "--name", name}, extra...)
	key := mustCLI(t, srv, "", args...)
	if key == "" || strings.ContainsAny(key, " \n") {
		t.Fatalf("apikeys create printed %q, want the secret alone", key)
	}
	return key
}

// AdminKey returns an API key of the bootstrap admin (created once).
func (s *server) AdminKey(t *testing.T) string {
	t.Helper()
	if s.AdminEmail == "" {
		t.Fatal("server started without a bootstrap admin")
	}
	s.keyOnce.Do(func() { s.adminKey = createAPIKey(t, s, s.AdminEmail, "e2e-admin") })
	if s.adminKey == "" {
		t.Fatal("no admin API key")
	}
	return s.adminKey
}

// httpClient never follows redirects, so tests see them.
var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// get fetches a URL without credentials.
func get(t *testing.T, url string) *apiResponse {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return readResponse(t, "GET", url, resp)
}

func readResponse(t *testing.T, method, url string, resp *http.Response) *apiResponse {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return &apiResponse{Method: method, URL: url, Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// waitUntil polls cond for up to 15 seconds (for effects that take a moment,
// such as an expiry); it fails the test if cond never holds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("condition not met within 15s")
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// cliEnv is a fake environment for run's lookup.
type cliEnv map[string]string

func (e cliEnv) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func testEnv(t *testing.T) cliEnv {
	t.Helper()
	return cliEnv{
		"GATEHOUSE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_MASTER_KEY":   base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)),
		"GATEHOUSE_ADDR":         "127.0.0.1:0",
	}
}

// safeBuffer is written by the server goroutine and read by the test.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCmd(t *testing.T, env cliEnv, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, env.lookup, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestVersionCommand(t *testing.T) {
	out, _, err := runCmd(t, cliEnv{}, "", "version")
	if err != nil || out != "gatehouse "+Version+"\n" {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestHelp(t *testing.T) {
	out, _, err := runCmd(t, cliEnv{}, "", "--help")
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"serve", "migrate", "users", "apikeys", "clients", "version", "--database-url", "--issuer", "--master-key", "--trusted-proxies", "--refresh-reuse-interval"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  cliEnv
		args []string
		want string
	}{
		{"unknown command", cliEnv{}, []string{"nope"}, "nope"},
		{"unknown flag", cliEnv{}, []string{"version", "--nope"}, "nope"},
		{"bad log format from env", cliEnv{"GATEHOUSE_LOG_FORMAT": "xml"}, []string{"version"}, "log-format"},
		{"bad issuer", cliEnv{"GATEHOUSE_ISSUER": "not a url"}, []string{"version"}, "GATEHOUSE_ISSUER"},
		{"bad database url", cliEnv{"GATEHOUSE_DATABASE_URL": "mysql://x"}, []string{"migrate", "status"}, "GATEHOUSE_DATABASE_URL"},
		{"bootstrap half set", cliEnv{"GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL": "a@example.com"}, []string{"version"}, "BOOTSTRAP"},
		{"bad trusted proxy", cliEnv{"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1,proxy.lan"}, []string{"version"}, "GATEHOUSE_TRUSTED_PROXIES"},
		{"bad trusted proxy flag", cliEnv{}, []string{"--trusted-proxies", "10.0.0.0/99", "version"}, "GATEHOUSE_TRUSTED_PROXIES"},
		{"bad refresh reuse interval", cliEnv{"GATEHOUSE_REFRESH_REUSE_INTERVAL": "five"}, []string{"version"}, "GATEHOUSE_REFRESH_REUSE_INTERVAL"},
		{"bad refresh reuse interval flag", cliEnv{}, []string{"--refresh-reuse-interval=1h", "version"}, "GATEHOUSE_REFRESH_REUSE_INTERVAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.env, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if strings.Contains(oneLine(err), "\n") {
				t.Errorf("oneLine(%q) spans lines", err)
			}
		})
	}
}

// TestFlagsOverrideEnvironment: each --x-y beats GATEHOUSE_X_Y, which beats
// the default (observed through validation: a bad value fails the command).
func TestFlagsOverrideEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     cliEnv
		args    []string
		wantErr string
	}{
		{"flag fixes a bad env log format", cliEnv{"GATEHOUSE_LOG_FORMAT": "xml"}, []string{"--log-format", "json", "version"}, ""},
		{"flag fixes a bad env issuer", cliEnv{"GATEHOUSE_ISSUER": "nope"}, []string{"--issuer", "https://id.example.com", "version"}, ""},
		{"bad flag beats a good env issuer", cliEnv{"GATEHOUSE_ISSUER": "https://id.example.com"}, []string{"--issuer", "ftp://x", "version"}, "GATEHOUSE_ISSUER"},
		{"env is read", cliEnv{"GATEHOUSE_DATABASE_URL": "mysql://x"}, []string{"version"}, "GATEHOUSE_DATABASE_URL"},
		{"empty env means default", cliEnv{"GATEHOUSE_ISSUER": "", "GATEHOUSE_LOG_FORMAT": ""}, []string{"version"}, ""},
		{"trusted proxies from env", cliEnv{"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1"}, []string{"version"}, ""},
		{"flag fixes a bad env refresh reuse interval", cliEnv{"GATEHOUSE_REFRESH_REUSE_INTERVAL": "five"}, []string{"--refresh-reuse-interval", "0", "version"}, ""},
		{"flag fixes bad env trusted proxies", cliEnv{"GATEHOUSE_TRUSTED_PROXIES": "nope"}, []string{"--trusted-proxies", "127.0.0.1", "version"}, ""},
		{"sub-command flags are not read from env", cliEnv{"GATEHOUSE_EMAIL": "a@example.com"}, []string{"users", "create", "--password-stdin"}, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.env, "", tc.args...)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one mentioning %s", err, tc.wantErr)
			}
		})
	}
}

func TestMigrateCommands(t *testing.T) {
	env := testEnv(t)
	out, _, err := runCmd(t, env, "", "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status on a fresh database = %q, %v", out, err)
	}
	out, _, err = runCmd(t, env, "", "migrate", "up")
	if err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	line := regexp.MustCompile(`^\S+\s+version (\d+) of (\d+) \(up to date\)$`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if m := line.FindStringSubmatch(l); m == nil || m[1] != m[2] {
			t.Errorf("after up: %q", l)
		}
	}
	again, _, err := runCmd(t, env, "", "migrate", "status")
	if err != nil || again != out {
		t.Errorf("status after up = %q (%v), want %q", again, err, out)
	}
}

// startServe runs `serve` in-process on a free port and returns its base URL
// and a stop function that returns serve's error.
func startServe(t *testing.T, env cliEnv) (string, *safeBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &safeBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env.lookup, strings.NewReader(""), io.Discard, logs) }()
	addrRe := regexp.MustCompile(`msg="gatehouse ready".* addr=(\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := addrRe.FindStringSubmatch(logs.String()); m != nil {
			stop := func() error {
				cancel()
				select {
				case err := <-done:
					return err
				case <-time.After(30 * time.Second):
					return errors.New("serve did not return within 30s of cancel")
				}
			}
			return "http://" + m[1], logs, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve returned before ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve not ready:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeAndHealthcheck(t *testing.T) {
	env := testEnv(t)
	base, logs, stop := startServe(t, env)
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s = %d %s", path, resp.StatusCode, b)
		}
	}

	// healthcheck probes the running server: by URL, and by the listen
	// address from GATEHOUSE_ADDR.
	if _, _, err := runCmd(t, env, "", "healthcheck", "--url", base+"/readyz"); err != nil {
		t.Errorf("healthcheck --url: %v", err)
	}
	hostEnv := cliEnv{}
	for k, v := range env {
		hostEnv[k] = v
	}
	hostEnv["GATEHOUSE_ADDR"] = strings.TrimPrefix(base, "http://")
	if _, _, err := runCmd(t, hostEnv, "", "healthcheck"); err != nil {
		t.Errorf("healthcheck on GATEHOUSE_ADDR: %v", err)
	}
	if _, _, err := runCmd(t, env, "", "healthcheck", "--url", base+"/no-such-endpoint"); err == nil {
		t.Error("healthcheck of a 404 succeeded")
	}

	if err := stop(); err != nil {
		t.Errorf("serve after cancel = %v, want nil (graceful shutdown)\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no 'stopped' log line:\n%s", logs.String())
	}
	// Nothing listens any more: the healthcheck fails.
	if _, _, err := runCmd(t, env, "", "healthcheck", "--url", base+"/readyz"); err == nil {
		t.Error("healthcheck succeeded after shutdown")
	}
}

func TestServeJSONLogs(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_LOG_FORMAT"] = "json"
	// The ready line is JSON; adapt the address pattern by reading it here.
	ctx, cancel := context.WithCancel(context.Background())
	logs := &safeBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env.lookup, strings.NewReader(""), io.Discard, logs) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"gatehouse ready"`) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no JSON ready line:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.HasPrefix(l, "{") {
			t.Errorf("non-JSON log line %q", l)
		}
	}
}

func TestServeRequiresMasterKeyOnPublicIssuer(t *testing.T) {
	env := testEnv(t)
	delete(env, "GATEHOUSE_MASTER_KEY")
	env["GATEHOUSE_ISSUER"] = "https://id.example.com"
	_, _, err := runCmd(t, env, "", "serve")
	if !errors.Is(err, config.ErrNoMasterKey) {
		t.Errorf("serve on a public issuer without key = %v, want ErrNoMasterKey", err)
	}
}

func TestServeAddressInUse(t *testing.T) {
	env := testEnv(t)
	base, _, stop := startServe(t, env)
	defer stop()
	env2 := testEnv(t)
	env2["GATEHOUSE_ADDR"] = strings.TrimPrefix(base, "http://")
	_, _, err := runCmd(t, env2, "", "serve")
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("second serve on a used address = %v", err)
	}
}

package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	want := Config{Addr: ":8080", Issuer: "http://localhost:8080", DatabaseURL: "sqlite:data/gatehouse.db", LogFormat: "text", LogLevel: "info", ReauthMaxAge: 5 * time.Minute, RefreshReuseInterval: "5s"}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	c = Config{Addr: ":9000", Issuer: "https://id.example.com/", LogFormat: "json", DatabaseURL: "postgres://db/x"}.WithDefaults()
	if c.Addr != ":9000" || c.Issuer != "https://id.example.com" || c.LogFormat != "json" || c.DatabaseURL != "postgres://db/x" {
		t.Errorf("WithDefaults changed set values or kept the trailing slash: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	base := Config{}.WithDefaults()
	for _, tc := range []struct {
		name    string
		change  func(*Config)
		wantErr string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"https issuer with path", func(c *Config) { c.Issuer = "https://example.com/auth" }, ""},
		{"postgresql scheme", func(c *Config) { c.DatabaseURL = "postgresql://u@h/db" }, ""},
		{"bootstrap pair", func(c *Config) { c.BootstrapAdminEmail, c.BootstrapAdminPassword = "a@example.com", "pw" }, ""},
		{"relative issuer", func(c *Config) { c.Issuer = "localhost:8080" }, "GATEHOUSE_ISSUER"},
		{"ftp issuer", func(c *Config) { c.Issuer = "ftp://example.com" }, "GATEHOUSE_ISSUER"},
		{"issuer without host", func(c *Config) { c.Issuer = "https://" }, "GATEHOUSE_ISSUER"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://example.com?x=1" }, "GATEHOUSE_ISSUER"},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://example.com#f" }, "GATEHOUSE_ISSUER"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "GATEHOUSE_LOG_FORMAT"},
		{"database scheme", func(c *Config) { c.DatabaseURL = "mysql://x" }, "GATEHOUSE_DATABASE_URL"},
		{"bootstrap email only", func(c *Config) { c.BootstrapAdminEmail = "a@example.com" }, "GATEHOUSE_BOOTSTRAP_ADMIN"},
		{"bootstrap password only", func(c *Config) { c.BootstrapAdminPassword = "pw" }, "GATEHOUSE_BOOTSTRAP_ADMIN"},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = "127.0.0.1, 10.0.0.0/8,fd00::/8" }, ""},
		{"trusted proxy host name", func(c *Config) { c.TrustedProxies = "127.0.0.1,proxy.internal" }, "GATEHOUSE_TRUSTED_PROXIES"},
		{"trusted proxy bad range", func(c *Config) { c.TrustedProxies = "10.0.0.0/40" }, "GATEHOUSE_TRUSTED_PROXIES"},
		{"refresh reuse off", func(c *Config) { c.RefreshReuseInterval = "0" }, ""},
		{"refresh reuse 2s", func(c *Config) { c.RefreshReuseInterval = "2s" }, ""},
		{"refresh reuse not a duration", func(c *Config) { c.RefreshReuseInterval = "5" }, "GATEHOUSE_REFRESH_REUSE_INTERVAL"},
		{"refresh reuse negative", func(c *Config) { c.RefreshReuseInterval = "-1s" }, "GATEHOUSE_REFRESH_REUSE_INTERVAL"},
		{"refresh reuse too long", func(c *Config) { c.RefreshReuseInterval = "1h" }, "GATEHOUSE_REFRESH_REUSE_INTERVAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.change(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines; the CLI prints one line", err)
			}
		})
	}
}

func TestRefreshReuse(t *testing.T) {
	if d := (Config{}).WithDefaults().RefreshReuse(); d != 5*time.Second {
		t.Errorf("default reuse interval %s, want 5s (CONTRACT)", d)
	}
	if d := (Config{RefreshReuseInterval: "0"}).WithDefaults().RefreshReuse(); d != 0 {
		t.Errorf("\"0\" gives %s, want 0 (off)", d)
	}
}

func TestTrustedProxyRanges(t *testing.T) {
	if r, err := (Config{}).TrustedProxyRanges(); err != nil || len(r) != 0 {
		t.Errorf("empty list: %v, %v; want no ranges", r, err)
	}
	r, err := (Config{TrustedProxies: "127.0.0.1, 10.0.0.0/8"}).TrustedProxyRanges()
	if err != nil || len(r) != 2 || r[0].String() != "127.0.0.1/32" || r[1].String() != "10.0.0.0/8" {
		t.Errorf("TrustedProxyRanges = %v, %v", r, err)
	}
	_, err = (Config{TrustedProxies: "10.0.0.1,nope"}).TrustedProxyRanges()
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_TRUSTED_PROXIES") || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("error %v does not name the variable and the entry", err)
	}
}

func TestIssuerIsLocal(t *testing.T) {
	for issuer, want := range map[string]bool{
		"http://localhost:8080":      true,
		"http://LOCALHOST:8080":      false, // url.Hostname keeps case; only the canonical name counts
		"http://app.localhost":       true,
		"http://127.0.0.1:8080":      true,
		"http://127.1.2.3":           true,
		"http://[::1]:8080":          true,
		"https://id.example.com":     false,
		"http://10.0.0.5:8080":       false,
		"http://localhost.evil.com":  false,
		"http://notlocalhost":        false,
		"https://example.com:8080/x": false,
	} {
		if got := (Config{Issuer: issuer}).IssuerIsLocal(); got != want {
			t.Errorf("IssuerIsLocal(%s) = %v, want %v", issuer, got, want)
		}
	}
}

func TestIssuerIsHTTPS(t *testing.T) {
	if !(Config{Issuer: "https://x"}).IssuerIsHTTPS() || (Config{Issuer: "http://x"}).IssuerIsHTTPS() {
		t.Error("IssuerIsHTTPS is wrong")
	}
}

func TestDataDir(t *testing.T) {
	for url, want := range map[string]string{
		"sqlite:data/gatehouse.db":         "data",
		"sqlite:/var/lib/gh/db.sqlite?x=1": "/var/lib/gh",
		"sqlite:gatehouse.db":              ".",
		"postgres://u@h/db":                "data",
	} {
		if got := (Config{DatabaseURL: url}).DataDir(); got != want {
			t.Errorf("DataDir(%s) = %q, want %q", url, got, want)
		}
	}
}

func key32(b byte) string {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	return base64.StdEncoding.EncodeToString(k)
}

func TestMasterKeyFromVariable(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "g.db")
	for _, issuer := range []string{"http://localhost:8080", "https://id.example.com"} {
		c := Config{Issuer: issuer, DatabaseURL: db, MasterKey: key32(7)}
		k, err := c.MasterKeyBytes()
		if err != nil || len(k) != 32 || k[0] != 7 {
			t.Fatalf("%s: MasterKeyBytes = %v, %v", issuer, k, err)
		}
	}
	// Unpadded base64 works too.
	raw := strings.TrimRight(key32(9), "=")
	if k, err := (Config{Issuer: "https://x", MasterKey: raw}).MasterKeyBytes(); err != nil || k[0] != 9 {
		t.Errorf("unpadded key: %v, %v", k, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although the key was given: %v", err)
	}
	for name, bad := range map[string]string{
		"short":      base64.StdEncoding.EncodeToString([]byte("too short")),
		"not base64": "!!!not-base64!!!",
		"long":       base64.StdEncoding.EncodeToString(make([]byte, 33)),
	} {
		_, err := (Config{Issuer: "https://x", MasterKey: bad}).MasterKeyBytes()
		if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_MASTER_KEY") {
			t.Errorf("%s key: err = %v, want one naming GATEHOUSE_MASTER_KEY", name, err)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("%s key: the error repeats the secret", name)
		}
	}
}

func TestMasterKeyGeneratedForLocalIssuer(t *testing.T) {
	for _, issuer := range []string{"http://localhost:8080", "http://127.0.0.1:9000", "http://[::1]"} {
		t.Run(issuer, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested", "data")
			c := Config{Issuer: issuer, DatabaseURL: "sqlite:" + filepath.Join(dir, "gatehouse.db")}
			k1, err := c.MasterKeyBytes()
			if err != nil || len(k1) != 32 {
				t.Fatalf("MasterKeyBytes = %d bytes, %v", len(k1), err)
			}
			path := filepath.Join(dir, "master.key")
			st, err := os.Stat(path)
			if err != nil {
				t.Fatalf("master.key not written: %v", err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("master.key mode = %v, want 0600", st.Mode().Perm())
			}
			k2, err := c.MasterKeyBytes()
			if err != nil || string(k1) != string(k2) {
				t.Errorf("second call returned a different key (%v)", err)
			}
		})
	}
}

// TestMasterKeyConcurrentFirstStart: processes starting together on a fresh
// data dir (serve plus a CLI command) must agree on one key and never read a
// half-written key file. Repeated, since the window is small.
func TestMasterKeyConcurrentFirstStart(t *testing.T) {
	for round := 0; round < 20; round++ {
		dir := t.TempDir()
		c := Config{Issuer: "http://localhost:8080", DatabaseURL: "sqlite:" + filepath.Join(dir, "g.db")}
		keys := make([][]byte, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = c.MasterKeyBytes()
			}()
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d: MasterKeyBytes: %v", round, errs[i])
			}
			if string(keys[i]) != string(keys[0]) {
				t.Fatalf("round %d: concurrent first starts produced different keys", round)
			}
		}
	}
}

func TestMasterKeyRequiredForPublicIssuer(t *testing.T) {
	dir := t.TempDir()
	for _, issuer := range []string{"https://id.example.com", "http://10.0.0.5:8080", "http://gatehouse.internal"} {
		c := Config{Issuer: issuer, DatabaseURL: "sqlite:" + filepath.Join(dir, "g.db")}
		if _, err := c.MasterKeyBytes(); !errors.Is(err, ErrNoMasterKey) {
			t.Errorf("%s: err = %v, want ErrNoMasterKey", issuer, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written for a public issuer: %v", entries)
	}
	// An existing key file is not used for a public issuer either: every
	// replica must be given the same key explicitly.
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(key32(1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Issuer: "https://id.example.com", DatabaseURL: "sqlite:" + filepath.Join(dir, "g.db")}
	if _, err := c.MasterKeyBytes(); !errors.Is(err, ErrNoMasterKey) {
		t.Errorf("with a key file and a public issuer: err = %v, want ErrNoMasterKey", err)
	}
}

func TestMasterKeyFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Issuer: "http://localhost", DatabaseURL: "sqlite:" + filepath.Join(dir, "g.db")}
	_, err := c.MasterKeyBytes()
	if err == nil || !strings.Contains(err.Error(), "master.key") {
		t.Errorf("corrupt key file: err = %v, want an error naming master.key", err)
	}
}

// Package config holds Gatehouse's runtime configuration and its validation.
//
// Values come from GATEHOUSE_* environment variables; command-line flags of the
// same name (--x-y for GATEHOUSE_X_Y) override them. The CLI layer resolves the
// two into a Config; this package only validates and derives.
package config

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/netaddr"
)

// Config is the whole runtime configuration. Zero values are replaced by
// Defaults before validation.
type Config struct {
	Addr                   string
	Issuer                 string
	DatabaseURL            string
	MasterKey              string
	BootstrapAdminEmail    string
	BootstrapAdminPassword string
	LogFormat              string
	// TrustedProxies is GATEHOUSE_TRUSTED_PROXIES as given: comma-separated
	// addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names
	// the client. Empty trusts no proxy. TrustedProxyRanges parses it.
	TrustedProxies string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ReauthMaxAge is how recent a proof of identity must be for a
	// sensitive action in a browser session (CONTRACT "Re-authentication").
	ReauthMaxAge time.Duration
	// RefreshReuseInterval is GATEHOUSE_REFRESH_REUSE_INTERVAL as given (a Go
	// duration): how long after a refresh token's rotation a concurrent
	// redemption of it still succeeds; "0" turns it off. RefreshReuse
	// parses it.
	RefreshReuseInterval string
	// SMTPURL is GATEHOUSE_SMTP_URL (smtp://user:pass@host:587 with
	// STARTTLS, smtps://user:pass@host:465 with implicit TLS); empty writes
	// mailed links to the log instead. It holds a password: never log it.
	// SMTPServer parses it.
	SMTPURL string
	// SMTPFrom is GATEHOUSE_SMTP_FROM, the sender address.
	SMTPFrom string
}

// Defaults are the contract's default values.
var Defaults = Config{
	Addr:         ":8080",
	Issuer:       "http://localhost:8080",
	DatabaseURL:  "sqlite:data/gatehouse.db",
	LogFormat:    "text",
	LogLevel:     "info",
	ReauthMaxAge: 5 * time.Minute,
	// RefreshReuseInterval: long enough for a backend-for-frontend's
	// parallel requests, short enough that a stolen token is still caught.
	RefreshReuseInterval: "5s",
}

// WithDefaults fills empty fields from Defaults.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = Defaults.Addr
	}
	if c.Issuer == "" {
		c.Issuer = Defaults.Issuer
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = Defaults.DatabaseURL
	}
	if c.LogFormat == "" {
		c.LogFormat = Defaults.LogFormat
	}
	if c.LogLevel == "" {
		c.LogLevel = Defaults.LogLevel
	}
	if c.ReauthMaxAge == 0 {
		c.ReauthMaxAge = Defaults.ReauthMaxAge
	}
	if c.RefreshReuseInterval == "" {
		c.RefreshReuseInterval = Defaults.RefreshReuseInterval
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	return c
}

// Validate checks every field and names the first bad one.
func (c Config) Validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("GATEHOUSE_ISSUER %q: must be an absolute http(s) URL", c.Issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("GATEHOUSE_ISSUER %q: must not have a query or fragment", c.Issuer)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("GATEHOUSE_LOG_FORMAT %q: must be text or json", c.LogFormat)
	}
	if _, err := c.SlogLevel(); err != nil {
		return err
	}
	if c.ReauthMaxAge < 0 {
		return fmt.Errorf("GATEHOUSE_REAUTH_MAX_AGE %s: must not be negative", c.ReauthMaxAge)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("GATEHOUSE_DATABASE_URL: must start with sqlite: or postgres://")
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPassword == "") {
		return errors.New("GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD must be set together")
	}
	if _, err := c.TrustedProxyRanges(); err != nil {
		return err
	}
	if _, err := c.parseRefreshReuse(); err != nil {
		return err
	}
	if _, err := c.SMTPServer(); err != nil {
		return err
	}
	return nil
}

// SlogLevel parses LogLevel.
func (c Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil || strings.ContainsAny(c.LogLevel, "+-") {
		return 0, fmt.Errorf("GATEHOUSE_LOG_LEVEL %q: must be debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// maxRefreshReuseInterval bounds the reuse interval: it is a grace period for
// concurrent requests, and every second of it is a second in which a stolen
// refresh token goes undetected.
const maxRefreshReuseInterval = 5 * time.Minute

// RefreshReuse is the parsed RefreshReuseInterval (0: off). Validate has
// checked it; an invalid value reads as 0.
func (c Config) RefreshReuse() time.Duration {
	d, _ := c.parseRefreshReuse()
	return d
}

func (c Config) parseRefreshReuse() (time.Duration, error) {
	d, err := time.ParseDuration(cmp.Or(c.RefreshReuseInterval, "0"))
	if err != nil || d < 0 || d > maxRefreshReuseInterval {
		return 0, fmt.Errorf("GATEHOUSE_REFRESH_REUSE_INTERVAL %q: must be a duration between 0 (off) and %s, e.g. 5s", c.RefreshReuseInterval, maxRefreshReuseInterval)
	}
	return d, nil
}

// TrustedProxyRanges parses TrustedProxies (see netaddr.ParsePrefixes); the
// error names the variable and the bad entry on one line.
func (c Config) TrustedProxyRanges() ([]netip.Prefix, error) {
	ranges, err := netaddr.ParsePrefixes(c.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_TRUSTED_PROXIES: %w (want comma-separated IP addresses or CIDR ranges)", err)
	}
	return ranges, nil
}

// IssuerIsLocal reports whether the issuer's host is localhost or a loopback
// address: only then may a master key be generated on the fly.
func (c Config) IssuerIsLocal() bool {
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IssuerIsHTTPS reports whether cookies must be marked Secure.
func (c Config) IssuerIsHTTPS() bool { return strings.HasPrefix(c.Issuer, "https://") }

// DataDir is where generated files (master key, SQLite database) live: the
// directory of the SQLite file, or ./data for PostgreSQL.
func (c Config) DataDir() string {
	if path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		path, _, _ = strings.Cut(path, "?")
		return filepath.Dir(path)
	}
	return "data"
}

// ErrNoMasterKey stops a start on a public issuer without a master key.
var ErrNoMasterKey = errors.New("GATEHOUSE_MASTER_KEY is required when the issuer is not localhost (32 bytes, base64; e.g. openssl rand -base64 32)")

// MasterKeyBytes returns the 32-byte master key. Without GATEHOUSE_MASTER_KEY
// it reads or generates DataDir()/master.key, but only for a local issuer.
func (c Config) MasterKeyBytes() ([]byte, error) {
	if c.MasterKey != "" {
		return decodeMasterKey(c.MasterKey, "GATEHOUSE_MASTER_KEY")
	}
	if !c.IssuerIsLocal() {
		return nil, ErrNoMasterKey
	}
	path := filepath.Join(c.DataDir(), "master.key")
	if raw, err := os.ReadFile(path); err == nil {
		return decodeMasterKey(strings.TrimSpace(string(raw)), path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	// Write a complete temporary file, then hard-link it into place: the link
	// either creates master.key whole or fails because another process got
	// there first, so nobody ever reads a half-written key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return c.MasterKeyBytes()
	} else if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

func decodeMasterKey(s, source string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s: must be 32 bytes, base64-encoded", source)
	}
	return key, nil
}

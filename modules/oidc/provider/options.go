package provider

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Options configure the provider. Zero values take the defaults noted.
type Options struct {
	// Issuer is the public base URL (config.Config.Issuer); required.
	Issuer string
	// MasterKey (32 bytes) encrypts signing keys at rest; required and the
	// same on every replica.
	MasterKey []byte
	// AccessTokenAlg signs the access tokens of no registered client (the
	// forward-auth gateway's): "ES256" (default, fastest to sign), "RS256"
	// or "EdDSA". A client's own tokens use clients.Client.AccessTokenAlg.
	AccessTokenAlg string
	// KeyRotationPeriod: an active signing key older than this is replaced
	// (default 30 days).
	KeyRotationPeriod time.Duration
	// KeyRetention: how long a retired key stays in the JWKS; must exceed the
	// longest token lifetime (default 25 h; tokens live at most 24 h).
	KeyRetention time.Duration
	// KeyRefresh: how often the key set is re-read (default 30 s).
	KeyRefresh time.Duration
	// AuthRequestTTL: how long a sign-in may take (default 30 min).
	AuthRequestTTL time.Duration
	// CodeTTL: authorization code lifetime (default 60 s).
	CodeTTL time.Duration
	// RefreshReuseInterval: for this long after a refresh token's rotation, a
	// concurrent redemption of the same token gets the same successor and
	// fresh access and ID tokens instead of revoking the grant (a
	// backend-for-frontend refreshing from parallel requests). Zero (the
	// default here; the binary's default is 5 s) turns it off.
	RefreshReuseInterval time.Duration
	// Permissions feeds the permissions claim of clients with
	// PermissionsClaim set; nil means no client gets the claim.
	Permissions PermissionSource
	// Resources are the registered APIs (resource=, RFC 8707); nil means
	// none: every resource parameter is invalid_target.
	Resources ResourceLookup
	// APIKeys verifies API keys exchanged for tokens (RFC 8693); nil means
	// API keys are not accepted as subject tokens.
	APIKeys APIKeyAuthenticator
	// Now is the clock (default time.Now, UTC).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	o.Issuer = strings.TrimRight(o.Issuer, "/")
	u, err := url.Parse(o.Issuer)
	if o.Issuer == "" || err != nil || u.Host == "" {
		return fmt.Errorf("oidc: Options.Issuer %q: must be an absolute URL", o.Issuer)
	}
	o.AccessTokenAlg = cmp.Or(o.AccessTokenAlg, clients.AlgES256)
	if !slices.Contains(clients.AccessTokenAlgs, o.AccessTokenAlg) {
		return fmt.Errorf("oidc: Options.AccessTokenAlg %q: must be ES256, RS256 or EdDSA", o.AccessTokenAlg)
	}
	o.KeyRotationPeriod = cmp.Or(o.KeyRotationPeriod, 30*24*time.Hour)
	o.KeyRetention = cmp.Or(o.KeyRetention, clients.MaxTokenTTL+time.Hour)
	o.KeyRefresh = cmp.Or(o.KeyRefresh, 30*time.Second)
	o.AuthRequestTTL = cmp.Or(o.AuthRequestTTL, 30*time.Minute)
	o.CodeTTL = cmp.Or(o.CodeTTL, 60*time.Second)
	if o.RefreshReuseInterval < 0 {
		return fmt.Errorf("oidc: Options.RefreshReuseInterval %s: must not be negative", o.RefreshReuseInterval)
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

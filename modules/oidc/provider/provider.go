// Package provider is Gatehouse's OpenID Provider: zitadel/oidc's op
// package over the module's tables, with the endpoints Gatehouse owns
// (server.go) composed around it. Clients come from the registry through
// ClientLookup; the browser side (package signin) is reached only through
// modules/oidc/flow.
package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// Options configure the provider. Zero values take the defaults noted.
type Options struct {
	// Issuer is the public base URL (config.Config.Issuer); required.
	Issuer string
	// MasterKey (32 bytes) encrypts signing keys at rest; required and the
	// same on every replica.
	MasterKey []byte
	// AccessTokenAlg signs access tokens: "ES256" (default, fastest to sign)
	// or "RS256".
	AccessTokenAlg string
	// KeyRotationPeriod: an active signing key older than this is replaced
	// (default 30 days).
	KeyRotationPeriod time.Duration
	// KeyRetention: how long a retired key stays in the JWKS; must exceed the
	// longest token lifetime (default 25 h; tokens live at most 24 h).
	KeyRetention time.Duration
	// RevocationPoll: how often revocations by other replicas are loaded
	// (default 2 s).
	RevocationPoll time.Duration
	// KeyRefresh: how often the key set is re-read (default 30 s).
	KeyRefresh time.Duration
	// AuthRequestTTL: how long a sign-in may take (default 30 min).
	AuthRequestTTL time.Duration
	// CodeTTL: authorization code lifetime (default 60 s).
	CodeTTL time.Duration
	// Permissions feeds the permissions claim of clients with
	// PermissionsClaim set; nil means no client gets the claim.
	Permissions PermissionSource
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
	if o.AccessTokenAlg != clients.AlgES256 && o.AccessTokenAlg != clients.AlgRS256 {
		return fmt.Errorf("oidc: Options.AccessTokenAlg %q: must be ES256 or RS256", o.AccessTokenAlg)
	}
	o.KeyRotationPeriod = cmp.Or(o.KeyRotationPeriod, 30*24*time.Hour)
	o.KeyRetention = cmp.Or(o.KeyRetention, clients.MaxTokenTTL+time.Hour)
	o.RevocationPoll = cmp.Or(o.RevocationPoll, 2*time.Second)
	o.KeyRefresh = cmp.Or(o.KeyRefresh, 30*time.Second)
	o.AuthRequestTTL = cmp.Or(o.AuthRequestTTL, 30*time.Minute)
	o.CodeTTL = cmp.Or(o.CodeTTL, 60*time.Second)
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Provider is the OpenID Connect provider: the op handler, the clients
// service, signing keys and bearer authentication of access tokens.
type Provider struct {
	db        database.DB
	opts      Options
	issuer    string
	users     UserDirectory
	audit     AuditLog
	authz     Authorizer
	sessions  flow.SessionEnder // set by the module (the pages half); may be nil
	accessAlg jose.SignatureAlgorithm

	clients     ClientLookup
	keys        *keyManager
	revoked     *revocationCache
	verified    verifiedCache
	storage     *storage
	op          *op.Provider
	handler     http.Handler // see opHandler
	handlerOnce sync.Once
	discovery   []byte
}

// NewProvider builds the provider. It does not touch the database: call
// Init (startup) before serving and run Run in the background.
func NewProvider(db database.DB, users UserDirectory, cl ClientLookup, auditLog AuditLog, authz Authorizer, opts Options) (*Provider, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if users == nil || cl == nil || auditLog == nil || authz == nil {
		return nil, errors.New("oidc: NewProvider: users, clients, audit log and authorizer are required")
	}
	seal, err := newSealer(opts.MasterKey)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		db: db, opts: opts, issuer: opts.Issuer, users: users, audit: auditLog, authz: authz,
		accessAlg: jose.SignatureAlgorithm(opts.AccessTokenAlg),
		clients:   cl,
		revoked:   &revocationCache{db: db.Gorm, now: opts.Now, m: map[string]time.Time{}},
	}
	p.keys = &keyManager{db: db.Gorm, sealer: seal, now: opts.Now, rotation: opts.KeyRotationPeriod,
		retention: opts.KeyRetention, logger: opts.Logger}
	p.storage = &storage{p: p}
	if err := p.buildHandler(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provider) now() time.Time { return p.opts.Now() }

// SetSessions connects the sign-in side's sessions, which RP-initiated
// logout ends (the façade calls it once, before serving).
func (p *Provider) SetSessions(s flow.SessionEnder) { p.sessions = s }

// Mount puts the OpenID Provider's endpoints on Public and the clients and
// signing-keys API on API (when the group exists).
func (p *Provider) Mount(r module.Routes) {
	p.mountPublic(r.Public)
	if r.API != nil {
		p.mountAPI(r.API)
	}
}

// Init creates the signing keys on first start, loads keys and revocations,
// and renders the discovery document. Run it once before serving.
func (p *Provider) Init(ctx context.Context) error {
	if err := p.keys.ensure(ctx); err != nil {
		return err
	}
	if err := p.revoked.poll(ctx); err != nil {
		return err
	}
	p.opHandler()
	return p.renderDiscovery()
}

// Run refreshes keys and revocations, rotates keys on schedule and removes
// expired rows, until ctx ends.
func (p *Provider) Run(ctx context.Context) error {
	poll := time.NewTicker(p.opts.RevocationPoll)
	defer poll.Stop()
	keys := time.NewTicker(p.opts.KeyRefresh)
	defer keys.Stop()
	cleanup := time.NewTicker(10 * time.Minute)
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
			if err := p.revoked.poll(ctx); err != nil && ctx.Err() == nil {
				p.opts.Logger.Warn("oidc: poll revocations", slog.Any("error", err))
			}
		case <-keys.C:
			if _, err := p.keys.rotate(ctx, false); err != nil && ctx.Err() == nil {
				p.opts.Logger.Warn("oidc: key rotation", slog.Any("error", err))
			}
		case <-cleanup.C:
			if err := p.cleanup(ctx); err != nil && ctx.Err() == nil {
				p.opts.Logger.Warn("oidc: clean-up", slog.Any("error", err))
			}
		}
	}
}

// cleanup deletes expired auth requests, codes, refresh tokens and
// revocations.
func (p *Provider) cleanup(ctx context.Context) error {
	now := p.now()
	db := database.Conn(ctx, p.db.Gorm)
	if err := db.Where("expires_at < ?", now).Delete(&authRequestRow{}).Error; err != nil {
		return err
	}
	if err := db.Where("expires_at < ?", now.Add(-time.Hour)).Delete(&codeRow{}).Error; err != nil {
		return err
	}
	if err := db.Where("family_expires_at < ?", now).Delete(&refreshTokenRow{}).Error; err != nil {
		return err
	}
	return p.revoked.purge(ctx)
}

// RotateSigningKeys replaces the active keys now (the old ones stay
// published until the tokens they signed have expired).
func (p *Provider) RotateSigningKeys(ctx context.Context) error {
	return database.Transact(ctx, p.db.Gorm, func(ctx context.Context) error {
		if _, err := p.keys.rotate(ctx, true); err != nil {
			return err
		}
		return p.record(ctx, audit.Event{Action: "signing-keys.rotate", Target: audit.Ref{Type: "signing-keys", ID: "*"}})
	})
}

// userClaims loads the user and (for the roles scope) their roles and runs
// claimsFor; perms (from permissionsFor, nil for no claim) pass through. A
// disabled or deleted user yields an error.
func (p *Provider) userClaims(ctx context.Context, userID string, scopes, perms []string) (map[string]any, error) {
	u, err := p.users.UserByID(ctx, userID)
	if err != nil {
		if errors.Is(err, identity.ErrNotFound) {
			return nil, oidc.ErrInvalidGrant().WithDescription("user not found")
		}
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if u.Status == identity.StatusDisabled {
		return nil, oidc.ErrInvalidGrant().WithDescription("user is disabled")
	}
	var roles []string
	if containsScope(scopes, scopeRoles) {
		if roles, err = p.users.RolesOf(ctx, userID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	return claimsFor(u, roles, perms, scopes), nil
}

// permissionsFor returns the user's permissions for the permissions claim,
// or nil (no claim) when the client did not ask for it or no source is
// wired; only clients with the option pay for the look-up. The result is
// never nil when the claim is due, so the claim is then always an array.
func (p *Provider) permissionsFor(ctx context.Context, c *clients.Client, userID string) ([]string, error) {
	if c == nil || !c.PermissionsClaim || p.opts.Permissions == nil {
		return nil, nil
	}
	perms, err := p.opts.Permissions.PermissionsFor(ctx, userID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(fmt.Errorf("oidc: permissions of %s: %w", userID, err))
	}
	if perms == nil {
		perms = []string{}
	}
	return perms, nil
}

// issuedPermissionsKey carries the permissions issueTokens computed for the
// access token to the ID token (op.CreateIDToken → SetUserinfoFromRequest),
// so both tokens of one response agree and the look-up runs once.
type issuedPermissionsKey struct{}

func withIssuedPermissions(ctx context.Context, perms []string) context.Context {
	return context.WithValue(ctx, issuedPermissionsKey{}, perms)
}

func issuedPermissions(ctx context.Context) ([]string, bool) {
	perms, ok := ctx.Value(issuedPermissionsKey{}).([]string)
	return perms, ok
}

func containsScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}

// logoutConfirmURL is the pages' /logout, which asks before signing out
// when the request carried no valid id_token_hint.
func (p *Provider) logoutConfirmURL(r *op.EndSessionRequest) string {
	q := url.Values{}
	if r.ClientID != "" && r.RedirectURI != "" && !strings.HasPrefix(r.RedirectURI, p.issuer+"/logout") {
		q.Set("post_logout_redirect_uri", r.RedirectURI)
	}
	if len(q) == 0 {
		return "/logout"
	}
	return "/logout?" + q.Encode()
}

// record writes an audit event (joining the transaction in ctx).
func (p *Provider) record(ctx context.Context, e audit.Event) error {
	return p.audit.Record(ctx, e)
}

// codeCrypto makes authorization codes 256-bit random strings. The library
// would encrypt the auth request id into the code; we look codes up by
// SHA-256 instead, so nothing needs to decrypt them, and bearer tokens are
// never opaque-encrypted (Decrypt always fails, so the library's token
// parsers fall through to JWT verification).
type codeCrypto struct{}

func (codeCrypto) Encrypt(string) (string, error) { return secret.Token(32), nil }
func (codeCrypto) Decrypt(string) (string, error) {
	return "", errors.New("oidc: not an encrypted token")
}

func runTx(ctx context.Context, p *Provider, fn func(ctx context.Context) error) error {
	return database.Transact(ctx, p.db.Gorm, fn)
}

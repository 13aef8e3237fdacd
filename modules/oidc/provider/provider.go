// Package provider is Gatehouse's OpenID Provider: zitadel/oidc's op
// package over the module's tables, with the endpoints Gatehouse owns
// (server.go) composed around it. Clients come from the registry through
// ClientLookup; the browser side (package signin) is reached only through
// modules/oidc/flow.
package provider

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

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
	// successorKey derives rotated refresh tokens (refresh_reuse.go).
	successorKey []byte

	clients     ClientLookup
	keys        *keyManager
	revoked     *denylist
	watch       *revocationWatch
	verified    *cache.TTL[[sha256.Size]byte, *verifiedToken] // signature checks, until exp
	gateway     *cache.TTL[string, *gatewayAnswer]            // /forward-auth answers (forward_auth.go)
	storage     *storage
	op          *op.Provider
	handler     http.Handler // see opHandler
	handlerOnce sync.Once
	discovery   *document
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
	succKey, err := newSuccessorKey(opts.MasterKey)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		successorKey: succKey,
		db:           db, opts: opts, issuer: opts.Issuer, users: users, audit: auditLog, authz: authz,
		accessAlg: jose.SignatureAlgorithm(opts.AccessTokenAlg),
		clients:   cl,
		watch:     &revocationWatch{db: db, logger: opts.Logger},
		verified:  cache.New[[sha256.Size]byte, *verifiedToken](0, verifiedCacheMax, opts.Now),
		gateway:   cache.New[string, *gatewayAnswer](0, gatewayCacheMax, opts.Now),
	}
	p.revoked = &denylist{db: db.Gorm, now: opts.Now, watch: p.watch}
	p.keys = &keyManager{db: db.Gorm, sealer: seal, now: opts.Now, rotation: opts.KeyRotationPeriod,
		retention: opts.KeyRetention, logger: opts.Logger}
	p.storage = &storage{p: p}
	if err := p.buildHandler(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provider) now() time.Time { return p.opts.Now() }

// Close waits for work Init left running (the RS256 key generated in the
// background), so the database is not closed under it.
func (p *Provider) Close() { p.keys.waitPending() }

// SetSessions connects the sign-in side's sessions, which RP-initiated
// logout ends (the façade calls it once, before serving).
func (p *Provider) SetSessions(s flow.SessionEnder) { p.sessions = s }

// Mount puts the OpenID Provider's endpoints on Public, /forward-auth on
// Bearer, and the signing-keys API on API (when those groups exist).
func (p *Provider) Mount(r module.Routes) {
	p.mountPublic(r.Public)
	if r.Bearer != nil {
		p.mountForwardAuth(r.Bearer)
	}
	if r.API != nil {
		p.mountAPI(r.API)
	}
}

// Init creates the signing keys on first start, loads them and renders the
// discovery document. Run it once before serving.
func (p *Provider) Init(ctx context.Context) error {
	if err := p.keys.ensure(ctx); err != nil {
		return err
	}
	p.opHandler()
	return p.renderDiscovery()
}

// Run watches for revocations (revocation_watch.go), refreshes keys,
// rotates them on schedule and removes expired rows, until ctx ends.
func (p *Provider) Run(ctx context.Context) error {
	watching := make(chan struct{})
	go func() { defer close(watching); p.watch.run(ctx) }()
	defer func() { <-watching }()
	keys := time.NewTicker(p.opts.KeyRefresh)
	defer keys.Stop()
	cleanup := time.NewTicker(10 * time.Minute)
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
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

// record writes an audit event (joining the transaction in ctx).
func (p *Provider) record(ctx context.Context, e audit.Event) error {
	return p.audit.Record(ctx, e)
}

func runTx(ctx context.Context, p *Provider, fn func(ctx context.Context) error) error {
	return database.Transact(ctx, p.db.Gorm, fn)
}

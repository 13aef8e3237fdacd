package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Private claims of our access tokens (beside RFC 9068's).
const (
	claimGrantID   = "gid"   // the authorization grant (code / refresh family) the token came from
	claimSessionID = "sid"   // the browser session (OpenID Connect Front-Channel Logout §3 naming)
	claimRoles     = "roles" // role names, when the roles scope was granted
	// claimPermissions lists the user's "<resource>#<action>" permissions,
	// for clients with Client.PermissionsClaim.
	claimPermissions = "permissions"
)

// Kinds of rows in oidc_revoked_tokens.
const (
	revokedAccessToken = "access_token" // id is the token's jti
	revokedGrant       = "grant"        // id is a grant id: every token of that grant
	revokedSubject     = "subject"      // id is a user id: every token issued to them until revoked_at
)

type revokedTokenRow struct {
	ID        string `gorm:"primaryKey"`
	Kind      string
	RevokedAt time.Time
	ExpiresAt time.Time
}

func (revokedTokenRow) TableName() string { return "oidc_revoked_tokens" }

// revocationCache is the in-process set of revoked access-token ids and grant
// ids. Access tokens are JWTs verified offline, so revocation is a denylist:
// each replica polls the table (revoked_at newer than its last poll, with an
// overlap for clock skew between replicas) and adds its own revocations at
// once. Entries leave when the tokens they name have expired anyway.
type revocationCache struct {
	db  *gorm.DB
	now func() time.Time

	mu       sync.RWMutex
	m        map[string]time.Time // id → expiry
	subjects map[string]time.Time // user id → tokens issued up to then are revoked
	lastPoll time.Time

	syncMu  sync.Mutex
	pending *pollRound // the next shared poll, collecting callers
	running bool       // a runRounds goroutine is active
}

const revocationPollOverlap = 30 * time.Second

func (c *revocationCache) isRevoked(ids ...string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, ok := c.m[id]; ok {
			return true
		}
	}
	return false
}

// subjectRevoked reports whether a token issued at iat to sub predates a
// revocation of every token of that user (disabled or deleted).
func (c *revocationCache) subjectRevoked(sub string, iat time.Time) bool {
	c.mu.RLock()
	t, ok := c.subjects[sub]
	c.mu.RUnlock()
	return ok && !iat.After(t)
}

// record persists a revocation (idempotent) and applies it locally.
func (c *revocationCache) record(ctx context.Context, id, kind string, expires time.Time) error {
	now := c.now()
	row := revokedTokenRow{ID: id, Kind: kind, RevokedAt: now, ExpiresAt: expires}
	q := database.Conn(ctx, c.db)
	if kind == revokedSubject {
		// A later revocation of the same user moves the cut-off forward.
		row.ID = "subject:" + id
		q = q.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"revoked_at", "expires_at"})})
	} else {
		q = q.Clauses(clause.OnConflict{DoNothing: true})
	}
	if err := q.Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: record revocation: %w", err)
	}
	c.apply(row)
	return nil
}

// syncNow returns once a poll that started after the call has finished, so
// every revocation committed before the call (on any replica) is in the
// cache. Concurrent callers share one poll, and polls start at most every
// syncInterval, so under load the database sees at most ~1000 small queries
// a second per replica however many tokens are checked, at the price of up
// to a couple of milliseconds of latency.
func (c *revocationCache) syncNow(ctx context.Context) error {
	c.syncMu.Lock()
	r := c.pending
	if r == nil {
		r = &pollRound{done: make(chan struct{})}
		c.pending = r
	}
	if !c.running {
		c.running = true
		go c.runRounds()
	}
	c.syncMu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollRound is one shared poll and the callers waiting for it.
type pollRound struct {
	done chan struct{}
	err  error
}

const syncInterval = time.Millisecond

func (c *revocationCache) runRounds() {
	var lastStart time.Time
	for {
		if wait := syncInterval - time.Since(lastStart); wait > 0 {
			time.Sleep(wait)
		}
		c.syncMu.Lock()
		r := c.pending
		c.pending = nil
		if r == nil {
			c.running = false
			c.syncMu.Unlock()
			return
		}
		c.syncMu.Unlock()
		lastStart = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.err = c.pollSince(ctx)
		cancel()
		close(r.done)
	}
}

func (c *revocationCache) apply(r revokedTokenRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Kind == revokedSubject {
		if c.subjects == nil {
			c.subjects = map[string]time.Time{}
		}
		sub := strings.TrimPrefix(r.ID, "subject:")
		if r.RevokedAt.After(c.subjects[sub]) {
			c.subjects[sub] = r.RevokedAt
		}
		return
	}
	c.m[r.ID] = r.ExpiresAt
}

// poll loads revocations made since the last poll (by any replica) and
// forgets expired ones (the periodic background refresh).
func (c *revocationCache) poll(ctx context.Context) error {
	if err := c.pollSince(ctx); err != nil {
		return err
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, exp := range c.m {
		if !now.Before(exp) {
			delete(c.m, id)
		}
	}
	for sub, at := range c.subjects {
		if now.Sub(at) > clients.MaxTokenTTL+time.Hour {
			delete(c.subjects, sub)
		}
	}
	return nil
}

// pollSince loads the revocations recorded since the last poll, with an
// overlap for commit delay and clock skew between replicas.
func (c *revocationCache) pollSince(ctx context.Context) error {
	now := c.now()
	c.mu.RLock()
	since := c.lastPoll
	c.mu.RUnlock()
	q := database.Conn(ctx, c.db).Where("expires_at > ?", now)
	if !since.IsZero() {
		q = q.Where("revoked_at >= ?", since.Add(-revocationPollOverlap))
	}
	var rows []revokedTokenRow
	if err := q.Find(&rows).Error; err != nil {
		return fmt.Errorf("oidc: poll revocations: %w", err)
	}
	for _, r := range rows {
		c.apply(r)
	}
	c.mu.Lock()
	if now.After(c.lastPoll) {
		c.lastPoll = now
	}
	c.mu.Unlock()
	return nil
}

func (c *revocationCache) purge(ctx context.Context) error {
	return database.Conn(ctx, c.db).Where("expires_at < ?", c.now().Add(-time.Hour)).Delete(&revokedTokenRow{}).Error
}

// accessToken is what goes into an access token.
type accessToken struct {
	Subject   string
	ClientID  string
	Audience  []string
	Scopes    []string
	GrantID   string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	Roles     []string // nil: no roles claim
	// Permissions: nil means no permissions claim.
	Permissions []string
	Expires     time.Time
}

// mintAccessToken signs an RFC 9068 JWT access token (typ at+jwt, iss, sub,
// aud, client_id, scope, exp, iat, jti) with the server's access-token key.
// Nothing is written to the database.
//
// zitadel/oidc's op.CreateJWT cannot be used here: its op.SignerFromKey fixes
// the JOSE header typ to "JWT", while RFC 9068 §2.1 requires "at+jwt". We
// build the library's oidc.AccessTokenClaims and sign them ourselves.
func (p *Provider) mintAccessToken(issuer string, t accessToken) (token, jti string, err error) {
	key, err := p.keys.activeKey(p.accessAlg)
	if err != nil {
		return "", "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", "", err
	}
	jti = id.String()
	aud := t.Audience
	if len(aud) == 0 {
		aud = []string{t.ClientID}
	}
	claims := oidc.NewAccessTokenClaims(issuer, t.Subject, aud, t.Expires, jti, t.ClientID, 0)
	now := oidc.FromTime(p.now())
	claims.IssuedAt, claims.NotBefore = now, now
	claims.Scopes = t.Scopes
	if !t.AuthTime.IsZero() {
		claims.AuthTime = oidc.FromTime(t.AuthTime)
	}
	claims.AuthenticationMethodsReferences = t.AMR
	claims.AuthenticationContextClassReference = t.ACR
	extra := map[string]any{}
	if t.GrantID != "" {
		extra[claimGrantID] = t.GrantID
	}
	if t.SessionID != "" {
		extra[claimSessionID] = t.SessionID
	}
	if t.Roles != nil {
		extra[claimRoles] = t.Roles
	}
	if t.Permissions != nil {
		extra[claimPermissions] = t.Permissions
	}
	if len(extra) > 0 {
		claims.Claims = extra
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", err
	}
	sig, err := key.atSigner.Sign(payload)
	if err != nil {
		return "", "", err
	}
	token, err = sig.CompactSerialize()
	return token, jti, err
}

var tokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// verifyAccessToken checks one of our access tokens offline: JOSE typ at+jwt
// (so an ID token is never accepted as an access token, RFC 9068 §4), a key
// of ours, the signature, iss, exp, and that neither the token nor its grant
// was revoked.
func (p *Provider) verifyAccessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	claims, ok := p.verified.get(token)
	if !ok {
		var err error
		if claims, err = p.verifySignedToken(ctx, token); err != nil {
			return nil, err
		}
		p.verified.put(token, claims)
	}
	if !p.now().Before(claims.Expiration.AsTime()) {
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	gid, _ := claims.Claims[claimGrantID].(string)
	if p.revoked.isRevoked(claims.JWTID, gid) || p.revoked.subjectRevoked(claims.Subject, claims.IssuedAt.AsTime()) {
		return nil, fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	// A deleted client's tokens stop working (cached look-up).
	if _, err := p.client(ctx, claims.ClientID); err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			return nil, err // a database fault is not the caller's fault
		}
		return nil, fmt.Errorf("%w: client: %v", ErrInvalidToken, err)
	}
	return claims, nil
}

// verifyAccessTokenNow is verifyAccessToken after syncNow, so a revocation
// made on another replica a moment ago counts: introspection, userinfo and
// API authentication answer the token's current state. A database fault is
// returned as is, not as ErrInvalidToken.
func (p *Provider) verifyAccessTokenNow(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	if err := p.revoked.syncNow(ctx); err != nil {
		return nil, err
	}
	return p.verifyAccessToken(ctx, token)
}

// verifySignedToken checks everything about a token that cannot change:
// typ, key, signature, issuer, presence of jti.
func (p *Provider) verifySignedToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	if strings.Count(token, ".") != 2 || len(token) > 8192 {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	jws, err := jose.ParseSigned(token, tokenAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	key, ok := p.keys.byKID(ctx, h.KeyID)
	if !ok || string(key.alg) != h.Algorithm {
		return nil, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	payload, err := jws.Verify(key.priv.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	claims := new(oidc.AccessTokenClaims)
	if err := json.Unmarshal(payload, claims); err != nil {
		return nil, fmt.Errorf("%w: bad claims", ErrInvalidToken)
	}
	if claims.Issuer != p.issuer {
		return nil, fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	}
	if claims.JWTID == "" {
		return nil, fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	return claims, nil
}

// verifiedCache remembers tokens whose signature was verified, so a resource
// server introspecting (or an API client presenting) the same token again
// costs a map look-up instead of an ECDSA/RSA verification. Expiry and
// revocation are still checked on every use. The cache is bounded: when full
// it starts over.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]*oidc.AccessTokenClaims
}

const verifiedCacheMax = 20000

func (c *verifiedCache) get(token string) (*oidc.AccessTokenClaims, bool) {
	c.mu.RLock()
	cl, ok := c.m[token]
	c.mu.RUnlock()
	return cl, ok
}

func (c *verifiedCache) put(token string, cl *oidc.AccessTokenClaims) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= verifiedCacheMax {
		c.m = make(map[string]*oidc.AccessTokenClaims, 1024)
	}
	c.m[token] = cl
	c.mu.Unlock()
}

// AuthenticateBearer turns one of our JWT access tokens into a principal for
// /api/v1 (httpserver.BearerAuthenticator). A client_credentials token
// (sub = client_id) is a Client principal; any other is the user in sub.
// Scopes are only the token's API-form scopes ("<type>:<action>"), never
// nil, so a token with just openid/profile carries no API rights. Any
// credential it does not accept yields httpserver.ErrUnauthenticated.
func (p *Provider) AuthenticateBearer(ctx context.Context, token string) (principal.Principal, error) {
	claims, err := p.verifyAccessTokenNow(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return principal.Principal{}, fmt.Errorf("%w: %v", httpserver.ErrUnauthenticated, err)
	}
	if err != nil {
		return principal.Principal{}, err
	}
	kind := principal.User
	if claims.Subject == claims.ClientID {
		kind = principal.Client
	}
	scopes := []string{}
	for _, s := range claims.Scopes {
		if strings.Contains(s, ":") {
			scopes = append(scopes, s)
		}
	}
	return principal.Principal{Kind: kind, ID: claims.Subject, Via: principal.ViaAccessToken, CredentialID: claims.JWTID, Scopes: scopes}, nil
}

package clients

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// Options configure the registry. Zero values take the defaults noted.
type Options struct {
	// CacheTTL bounds how long another replica's client change takes to be
	// seen by ClientByID and Authenticate (default 5 s).
	CacheTTL time.Duration
	// Now is the clock (default time.Now, UTC).
	Now func() time.Time
}

// Service is the client registry: registration, updates, secret rotation
// (each audited in its own transaction) and the cached look-ups of the
// token path.
type Service struct {
	db       *gorm.DB
	audit    AuditLog
	now      func() time.Time
	store    *clientStore
	cache    *clientCache
	origins  *originCache
	onDelete []DeleteListener
}

// Deps are the services the registry calls out to.
type Deps struct {
	// Audit records client changes in their transaction.
	Audit AuditLog
}

// New builds the registry over the module's tables; it does not touch the
// database.
func New(db database.DB, deps Deps, opts Options) *Service {
	auditLog := deps.Audit
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	return &Service{db: db.Gorm, audit: auditLog, now: opts.Now, store: &clientStore{db: db.Gorm}, cache: newClientCache(opts.CacheTTL),
		origins: &originCache{ttl: opts.CacheTTL}}
}

// AddDeleteListener registers l to run inside every Delete's transaction.
// Call it while wiring, before serving.
func (s *Service) AddDeleteListener(l DeleteListener) { s.onDelete = append(s.onDelete, l) }

// DefaultSecretOverlap is how long the previous secret keeps working after
// a rotation, so a client can be redeployed without downtime.
const DefaultSecretOverlap = 24 * time.Hour

// newClientSecret is 32 random bytes (256 bits), base64url.
func newClientSecret() string { return secret.Token(32) }

// Create registers a client. A confidential client gets a secret that
// is returned here once and stored only as its SHA-256.
func (s *Service) Create(ctx context.Context, in NewClient) (Client, string, error) {
	c := Client{
		Name: in.Name, Public: in.Public, FirstParty: in.FirstParty,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: in.GrantTypes, Scopes: in.Scopes,
		AccessTokenTTL: in.AccessTokenTTL, IDTokenTTL: in.IDTokenTTL,
		RefreshTokenTTL: in.RefreshTokenTTL, RefreshTokenIdleTTL: in.RefreshTokenIdleTTL,
		IDTokenAlg: in.IDTokenAlg, AccessTokenAlg: in.AccessTokenAlg, PermissionsClaim: in.PermissionsClaim,
		RequirePKCE: in.RequirePKCE == nil || *in.RequirePKCE,
	}
	if err := c.normalize(); err != nil {
		return Client{}, "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Client{}, "", err
	}
	now := s.now().Truncate(time.Microsecond)
	c.ID, c.CreatedAt, c.UpdatedAt = id.String(), now, now
	var plain, hash string
	if !c.Public {
		plain = newClientSecret()
		hash = secret.Hash(plain)
	}
	err = database.Transact(ctx, s.db, func(ctx context.Context) error {
		if err := s.store.create(ctx, c, hash, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "client.create", Target: audit.Ref{Type: "client", ID: c.ID},
			Details: map[string]string{"name": c.Name}})
	})
	if err != nil {
		return Client{}, "", err
	}
	s.cache.invalidate(c.ID)
	s.origins.invalidate()
	return c, plain, nil
}

// Get returns a client (ErrNotFound if none), fresh from the database.
func (s *Service) Get(ctx context.Context, id string) (Client, error) {
	rec, err := s.store.get(ctx, id)
	if err != nil {
		return Client{}, err
	}
	return rec.Client, nil
}

// ClientPage is one page of clients in creation order.
type ClientPage = page.Page[Client]

// List pages through clients (internal/page: pageSize 1..page.MaxSize,
// 0 for the default).
func (s *Service) List(ctx context.Context, pageSize int, pageToken string) (ClientPage, error) {
	size, err := page.Size(pageSize)
	if err != nil {
		return ClientPage{}, err
	}
	after := ""
	if pageToken != "" {
		parts, err := page.Decode(pageToken, 1)
		if err != nil {
			return ClientPage{}, err
		}
		after = parts[0]
	}
	items, err := s.store.list(ctx, size+1, after)
	if err != nil {
		return ClientPage{}, err
	}
	return page.Cut(items, size, func(c Client) []string { return []string{c.ID} }, func(c Client) Client { return c }), nil
}

// Update applies u in one transaction (read, validate, compare-and-swap).
func (s *Service) Update(ctx context.Context, id string, u ClientUpdate) (Client, error) {
	var out Client
	err := database.Transact(ctx, s.db, func(ctx context.Context) error {
		rec, err := s.store.get(ctx, id)
		if err != nil {
			return err
		}
		c := rec.Client
		prev := c.UpdatedAt
		set := func(dst *[]string, src *[]string) {
			if src != nil {
				*dst = *src
			}
		}
		if u.Name != nil {
			c.Name = *u.Name
		}
		if u.FirstParty != nil {
			c.FirstParty = *u.FirstParty
		}
		set(&c.RedirectURIs, u.RedirectURIs)
		set(&c.PostLogoutRedirectURIs, u.PostLogoutRedirectURIs)
		set(&c.GrantTypes, u.GrantTypes)
		set(&c.Scopes, u.Scopes)
		for _, f := range []struct {
			dst *time.Duration
			src *time.Duration
		}{{&c.AccessTokenTTL, u.AccessTokenTTL}, {&c.IDTokenTTL, u.IDTokenTTL}, {&c.RefreshTokenTTL, u.RefreshTokenTTL}, {&c.RefreshTokenIdleTTL, u.RefreshTokenIdleTTL}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if u.IDTokenAlg != nil {
			c.IDTokenAlg = *u.IDTokenAlg
		}
		if u.AccessTokenAlg != nil {
			c.AccessTokenAlg = *u.AccessTokenAlg
		}
		if u.PermissionsClaim != nil {
			c.PermissionsClaim = *u.PermissionsClaim
		}
		if u.RequirePKCE != nil {
			c.RequirePKCE = *u.RequirePKCE
		}
		if u.GrantTypes != nil && len(*u.GrantTypes) == 0 {
			return invalidClient("grant_types", "must not be empty")
		}
		if err := c.normalize(); err != nil {
			return err
		}
		c.UpdatedAt = s.now().Truncate(time.Microsecond)
		if !c.UpdatedAt.After(prev) {
			c.UpdatedAt = prev.Add(time.Microsecond)
		}
		if err := s.store.update(ctx, c, prev); err != nil {
			return err
		}
		out = c
		return s.audit.Record(ctx, audit.Event{Action: "client.update", Target: audit.Ref{Type: "client", ID: id}})
	})
	s.cache.invalidate(id)
	s.origins.invalidate()
	if err != nil {
		return Client{}, err
	}
	return out, nil
}

// Delete removes a client and its secrets; in the same transaction the
// DeleteListeners end its grants (the provider revokes its refresh tokens).
func (s *Service) Delete(ctx context.Context, id string) error {
	err := database.Transact(ctx, s.db, func(ctx context.Context) error {
		if err := s.store.delete(ctx, id); err != nil {
			return err
		}
		for _, l := range s.onDelete {
			if err := l.ClientDeleted(ctx, id); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, audit.Event{Action: "client.delete", Target: audit.Ref{Type: "client", ID: id}})
	})
	s.cache.invalidate(id)
	s.origins.invalidate()
	return err
}

// RotateSecret issues a new secret (returned once); the previous ones
// keep working for overlap (0: DefaultSecretOverlap; negative: stop at once).
func (s *Service) RotateSecret(ctx context.Context, id string, overlap time.Duration) (string, error) {
	if overlap == 0 {
		overlap = DefaultSecretOverlap
	}
	if overlap < 0 {
		overlap = 0
	}
	plain := newClientSecret()
	err := database.Transact(ctx, s.db, func(ctx context.Context) error {
		rec, err := s.store.get(ctx, id)
		if err != nil {
			return err
		}
		if rec.Public {
			return invalidClient("public", "a public client has no secret")
		}
		now := s.now()
		if err := s.store.expireSecrets(ctx, id, now.Add(overlap)); err != nil {
			return err
		}
		if err := s.store.addSecret(ctx, id, secret.Hash(plain), now); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "client.secret.rotate", Target: audit.Ref{Type: "client", ID: id}})
	})
	s.cache.invalidate(id)
	if err != nil {
		return "", err
	}
	return plain, nil
}

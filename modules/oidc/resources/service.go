package resources

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// AuditLog records resource changes (resource.create, resource.update,
// resource.delete) in
// their transaction; audit.Service satisfies it.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event) error
}

// Authorizer decides access to /api/v1/resources: resources:create, read,
// update and delete (the authz module's Can; admin's *:* and auditor's *:read
// cover the new type).
type Authorizer interface {
	Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error)
}

// Options configure the registry. Zero values take the defaults noted.
type Options struct {
	// CacheTTL bounds how long another replica's change takes to be seen by
	// ByIdentifier (default 5 s).
	CacheTTL time.Duration
	// Now is the clock (default time.Now, UTC).
	Now func() time.Time
}

// Service is the API registry.
type Service struct {
	db    database.DB
	audit AuditLog
	now   func() time.Time
	store *store
	// byIdentifier caches look-ups of the token path, misses included (nil).
	byIdentifier *cache.TTL[string, *Resource]
}

// New builds the registry; it does not touch the database.
func New(db database.DB, auditLog AuditLog, opts Options) *Service {
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	return &Service{db: db, audit: auditLog, now: opts.Now, store: &store{db: db.Gorm},
		byIdentifier: cache.New[string, *Resource](opts.CacheTTL, 10_000, opts.Now)}
}

// Create registers an API (audited).
func (s *Service) Create(ctx context.Context, in NewResource) (Resource, error) {
	r := Resource{Identifier: in.Identifier, Name: in.Name, Scopes: in.Scopes, ClientIDs: in.ClientIDs}
	if err := r.normalize(); err != nil {
		return Resource{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Resource{}, err
	}
	now := s.now().Truncate(time.Microsecond)
	r.ID, r.CreatedAt, r.UpdatedAt = id.String(), now, now
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.store.create(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "resource.create", Target: audit.Ref{Type: "resource", ID: r.ID},
			Details: map[string]string{"identifier": r.Identifier, "name": r.Name}})
	})
	s.byIdentifier.Delete(r.Identifier)
	if err != nil {
		return Resource{}, err
	}
	return r, nil
}

// Update changes an API's name, scopes or registered clients (audited, with
// the fields that changed), validated as Create validates. The token path
// sees the change at once on this replica, within Options.CacheTTL on
// others; tokens already issued keep their scopes until they expire.
func (s *Service) Update(ctx context.Context, id string, u Update) (Resource, error) {
	var out Resource
	err := database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		r, err := s.store.take(ctx, "id", id)
		if err != nil {
			return err
		}
		prev := r
		if u.Name != nil {
			r.Name = *u.Name
		}
		if u.Scopes != nil {
			r.Scopes = *u.Scopes
		}
		if u.ClientIDs != nil {
			r.ClientIDs = *u.ClientIDs
		}
		if err := r.normalize(); err != nil {
			return err
		}
		r.UpdatedAt = s.now().Truncate(time.Microsecond)
		if !r.UpdatedAt.After(prev.UpdatedAt) {
			r.UpdatedAt = prev.UpdatedAt.Add(time.Microsecond)
		}
		if err := s.store.update(ctx, r, prev.UpdatedAt); err != nil {
			return err
		}
		out = r
		changed := map[string]string{"identifier": r.Identifier}
		if r.Name != prev.Name {
			changed["name"] = r.Name
		}
		if !slices.Equal(r.Scopes, prev.Scopes) {
			changed["scopes"] = strings.Join(r.Scopes, " ")
		}
		if !slices.Equal(r.ClientIDs, prev.ClientIDs) {
			changed["client_ids"] = strings.Join(r.ClientIDs, " ")
		}
		return s.audit.Record(ctx, audit.Event{Action: "resource.update", Target: audit.Ref{Type: "resource", ID: id},
			Details: changed})
	})
	if out.Identifier != "" {
		s.byIdentifier.Delete(out.Identifier)
	}
	if err != nil {
		return Resource{}, err
	}
	return out, nil
}

// Get returns an API by id (ErrNotFound if none), fresh from the database.
func (s *Service) Get(ctx context.Context, id string) (Resource, error) {
	return s.store.take(ctx, "id", id)
}

// ByIdentifier is the token path's look-up (cached for Options.CacheTTL,
// misses too): the API whose identifier is exactly identifier, or
// ErrNotFound.
func (s *Service) ByIdentifier(ctx context.Context, identifier string) (Resource, error) {
	if r, ok := s.byIdentifier.Get(identifier); ok {
		if r == nil {
			return Resource{}, ErrNotFound
		}
		return *r, nil
	}
	r, err := s.store.take(ctx, "identifier", identifier)
	if errors.Is(err, ErrNotFound) {
		s.byIdentifier.Put(identifier, nil)
		return Resource{}, err
	}
	if err != nil {
		return Resource{}, err
	}
	s.byIdentifier.Put(identifier, &r)
	return r, nil
}

// Page is one page of APIs in creation order.
type Page = page.Page[Resource]

// List pages through the APIs (internal/page sizes and tokens).
func (s *Service) List(ctx context.Context, pageSize int, pageToken string) (Page, error) {
	size, err := page.Size(pageSize)
	if err != nil {
		return Page{}, err
	}
	after := ""
	if pageToken != "" {
		parts, err := page.Decode(pageToken, 1)
		if err != nil {
			return Page{}, err
		}
		after = parts[0]
	}
	items, err := s.store.list(ctx, size+1, after)
	if err != nil {
		return Page{}, err
	}
	return page.Cut(items, size, func(r Resource) []string { return []string{r.ID} }, func(r Resource) Resource { return r }), nil
}

// Delete removes an API (audited). Tokens already issued for it keep
// verifying until they expire; no new ones are issued.
func (s *Service) Delete(ctx context.Context, id string) error {
	var gone Resource
	err := database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		r, err := s.store.delete(ctx, id)
		if err != nil {
			return err
		}
		gone = r
		return s.audit.Record(ctx, audit.Event{Action: "resource.delete", Target: audit.Ref{Type: "resource", ID: id},
			Details: map[string]string{"identifier": r.Identifier}})
	})
	if gone.Identifier != "" {
		s.byIdentifier.Delete(gone.Identifier)
	}
	return err
}

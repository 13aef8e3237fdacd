package authz

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/cache"
	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// Options tune the Service; zero values take the defaults.
type Options struct {
	// RoleTTL is how long a user's roles are cached (default 5s). Identity's
	// UserChanged drops an entry at once.
	RoleTTL time.Duration
	// PollInterval is how often Run checks the version row (default 500ms).
	PollInterval time.Duration
	// Now is the clock (conditions see r.ctx.time/hour/weekday).
	Now    func() time.Time
	Logger *slog.Logger
	// IsUnknownUser reports whether an error from RoleSource.RolesOf means
	// the user does not exist (main passes errors.Is(err,
	// identity.ErrNotFound)); such a subject is denied instead of failing
	// the request.
	IsUnknownUser func(error) bool
}

// Service is the authorization module's public API.
type Service struct {
	db       database.DB
	st       store
	eng      *engine
	roles    RoleSource
	audit    AuditLog
	opts     Options
	reloadMu sync.Mutex
	wake     chan struct{}

	// roleCache holds users' direct roles for RoleTTL.
	roleCache *cache.TTL[string, []string]
	// rolesVersion is the authz_state.roles_version last seen by poll.
	rolesVersion atomic.Int64
}

const maxRoleCacheEntries = 50_000

// Deps are the services authz calls out to.
type Deps struct {
	// Roles answers who has which role (identity).
	Roles RoleSource
	// Audit records policy changes in their transaction.
	Audit AuditLog
}

// New loads the policies (the database must be migrated; hence ctx) and
// returns the service. Run must be started for changes made by other
// instances to be picked up.
func New(ctx context.Context, db database.DB, deps Deps, opts Options) (*Service, error) {
	roles, audit := deps.Roles, deps.Audit
	if roles == nil || audit == nil {
		return nil, errors.New("authz: RoleSource and AuditLog are required")
	}
	opts.RoleTTL = cmp.Or(max(opts.RoleTTL, 0), 5*time.Second)
	opts.PollInterval = cmp.Or(max(opts.PollInterval, 0), 500*time.Millisecond)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.IsUnknownUser == nil {
		opts.IsUnknownUser = func(error) bool { return false }
	}
	st := store{db: db.Gorm}
	eng, err := newEngine(st)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, st: st, eng: eng, roles: roles, audit: audit, opts: opts,
		wake: make(chan struct{}, 1), roleCache: cache.New[string, []string](opts.RoleTTL, maxRoleCacheEntries, opts.Now)}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the policies now.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.eng.reload(ctx, s.st)
}

// Run polls the version row every PollInterval and reloads the policies
// when another instance (or a transaction that has since committed)
// changed them. It returns nil when ctx ends; database errors are logged
// and retried, never fatal.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		if err := s.poll(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.WarnContext(ctx, "authz: policy reload failed", slog.String("error", err.Error()))
		}
	}
}

func (s *Service) poll(ctx context.Context) error {
	st, err := s.st.state(ctx)
	if err != nil {
		return err
	}
	// Another instance changed someone's roles: drop every cached role set
	// (cheap; they are re-read on demand), so no replica keeps granting a
	// revoked role for longer than one poll interval.
	if old := s.rolesVersion.Swap(st.RolesVersion); old != st.RolesVersion {
		s.roleCache.Clear()
	}
	if st.Version == s.eng.loadedVersion() {
		return nil
	}
	return s.Reload(ctx)
}

// changed makes a committed change visible: at once when ctx carries no
// transaction (we made and committed it), else at the next poll after the
// caller's transaction commits.
func (s *Service) changed(ctx context.Context) {
	if database.InTx(ctx) {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return
	}
	if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
		s.opts.Logger.WarnContext(ctx, "authz: reload after change failed; the poller retries", slog.String("error", err.Error()))
	}
}

// Can reports whether p may perform action on res. It implements the
// Authorizer interface other modules declare. In order:
//   - System principals may do anything.
//   - Clients (client_credentials) have exactly their scopes, no roles.
//   - A user with non-nil Scopes is limited to them (intersection with the
//     rules below).
//   - Self-service: users may read and update their own user, and read,
//     create, update and delete their own api-keys, sessions and passkeys
//     (res.OwnerID == p.ID). Deny rules do not override this.
//   - Otherwise the policies decide for the user's roles (cached RoleTTL).
//
// An error is returned when the roles cannot be read or a condition fails
// to evaluate (ErrCondition); callers must not treat it as a denial
// silently.
func (s *Service) Can(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
	d, err := s.decidePrincipal(ctx, p, res, action)
	return d.Allowed, err
}

func (s *Service) decidePrincipal(ctx context.Context, p principal.Principal, res principal.Resource, action string) (Decision, error) {
	switch p.Kind {
	case principal.System:
		return Decision{Allowed: true, Reason: "system principal"}, nil
	case principal.Client:
		if ScopesAllow(p.Scopes, res.Type, action) {
			return Decision{Allowed: true, Reason: "client scope"}, nil
		}
		return Decision{Reason: "no client scope allows this action"}, nil
	case principal.User, principal.Service:
	default:
		return Decision{Reason: "unknown principal kind"}, nil
	}
	if p.ID == "" {
		return Decision{Reason: "principal without id"}, nil
	}
	if p.Scopes != nil && !ScopesAllow(p.Scopes, res.Type, action) {
		return Decision{Reason: "outside the credential's scopes"}, nil
	}
	if SelfService(p, res, action) {
		return Decision{Allowed: true, Reason: "self-service"}, nil
	}
	roles, err := s.rolesOf(ctx, p.ID)
	if errors.Is(err, ErrUnknownSubject) {
		return Decision{Reason: "unknown user"}, nil
	}
	if err != nil {
		return Decision{}, err
	}
	id := res.ID
	if id == "" {
		id = "*"
	}
	return s.eng.decide(request{
		Sub:     subject{Type: "user", ID: p.ID, Roles: roles},
		ResType: res.Type, ResID: id, Owner: res.OwnerID, Action: action,
	}, s.opts.Now())
}

// ScopesAllow reports whether one of scopes ("<type>:<action>", "*"
// allowed in either part, e.g. "users:read", "api-keys:*", "*:read")
// covers action on resources of resType. Scopes of another form ("openid",
// "profile") grant nothing here.
func ScopesAllow(scopes []string, resType, action string) bool {
	for _, sc := range scopes {
		t, a, ok := strings.Cut(sc, ":")
		if !ok {
			continue
		}
		if (t == "*" || t == resType) && (a == "*" || a == action) {
			return true
		}
	}
	return false
}

// SelfService reports whether p acts on its own personal resource in a
// way every user may: read/update their user (status and roles are
// guarded by identity), and read/create/update/delete their api-keys,
// sessions and passkeys.
func SelfService(p principal.Principal, res principal.Resource, action string) bool {
	if !p.IsUser() || p.ID == "" || res.OwnerID != p.ID {
		return false
	}
	switch res.Type {
	case "users":
		return action == "read" || action == "update"
	case "api-keys", "sessions", "passkeys":
		switch action {
		case "read", "create", "update", "delete":
			return true
		}
	}
	return false
}

// rolesOf returns the user's roles through the cache.
func (s *Service) rolesOf(ctx context.Context, userID string) ([]string, error) {
	if roles, ok := s.roleCache.Get(userID); ok {
		return roles, nil
	}
	roles, err := s.roles.RolesOf(ctx, userID)
	if err != nil {
		if s.opts.IsUnknownUser(err) {
			return nil, fmt.Errorf("user %s: %w", userID, ErrUnknownSubject)
		}
		return nil, fmt.Errorf("authz: roles of %s: %w", userID, err)
	}
	roles = append([]string(nil), roles...)
	s.roleCache.Put(userID, roles)
	return roles, nil
}

// InvalidateUser drops the cached roles of a user, so the next decision
// reads them from identity.
func (s *Service) InvalidateUser(userID string) {
	s.roleCache.Delete(userID)
}

// UserChanged implements identity's Listener: a user's roles or status
// changed, so their cached roles are dropped.
func (s *Service) UserChanged(ctx context.Context, userID string) error {
	s.InvalidateUser(userID)
	// Tell the other instances, in the caller's transaction.
	return s.st.bumpRoles(ctx)
}

// UserDeleted implements identity's Listener: drops the cache entry and
// deletes the rules whose subject is "user:<id>" in the caller's
// transaction (they are unloaded once it commits).
func (s *Service) UserDeleted(ctx context.Context, userID string) error {
	s.InvalidateUser(userID)
	n, err := s.st.deleteSubjectPolicies(ctx, "user:"+userID)
	if err != nil {
		return err
	}
	if n > 0 {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		s.changed(ctx)
	}
	return nil
}

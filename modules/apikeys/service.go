// Package apikeys issues and verifies API keys: bearer credentials owned by a
// user or a service account (a Machine user of the identity module). Keys are
// shown once; only the SHA-256 of their secret is stored. Verification is a
// checksum test, an in-process cache lookup and a constant-time hash
// comparison; last-use times are written in batches by a background task.
package apikeys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// Options tune the service; zero values take the defaults.
type Options struct {
	// CacheTTL bounds how long a verified key's row and owner state are
	// reused without a database read (default 30 s). Revocation and owner
	// changes made through this process drop entries at once; changes made
	// by another replica take effect within CacheTTL. Negative disables the
	// cache.
	CacheTTL time.Duration
	// FlushInterval is how often Run writes last-use times (default 10 s).
	FlushInterval time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the apikeys module's public API.
type Service struct {
	store  store
	users  Users
	audit  AuditLog
	notify Notifier
	opts   Options
	cache  *keyCache
	usage  *usage
}

// Deps are the services apikeys calls out to.
type Deps struct {
	Users Users
	Audit AuditLog
	// Notifier is optional: a person (not a service account) is mailed a
	// notice when a key is created for them, naming the key and its prefix.
	Notifier Notifier
}

// New returns the service over db.
func New(db database.DB, deps Deps, opts Options) *Service {
	opts.CacheTTL = cmp.Or(opts.CacheTTL, 30*time.Second)
	opts.FlushInterval = cmp.Or(max(opts.FlushInterval, 0), 10*time.Second)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Service{
		store: store{db: db.Gorm}, users: deps.Users, audit: deps.Audit, notify: deps.Notifier, opts: opts,
		cache: newKeyCache(opts.CacheTTL, opts.Now), usage: newUsage(),
	}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// MaxNameLen bounds a key's name (characters).
const MaxNameLen = 100

// Create issues a key for n.UserID and returns it with its secret, which is
// not stored and cannot be shown again. The owner must exist and be active.
//
// Scopes: when the caller in ctx is itself restricted by scopes (a scoped API
// key or access token), the new key may not exceed them: omitted scopes
// inherit the caller's, and scopes outside them are refused with
// ErrScopeEscalation. An unrestricted caller (a session, an unscoped key, the
// CLI) may request any valid scopes: at use time the authorizer intersects
// them with the owner's rights, so a scope never grants more than its owner
// has. Whether the caller may create keys for n.UserID at all is the HTTP
// handler's authorization check. The key's creation is audited and, for a
// person, mailed to them as a security notice in the same transaction.
func (s *Service) Create(ctx context.Context, n NewKey) (Created, error) {
	name := strings.TrimSpace(n.Name)
	if err := validName(name); err != nil {
		return Created{}, err
	}
	scopes, err := ValidateScopes(n.Scopes)
	if err != nil {
		return Created{}, err
	}
	now := s.now()
	var expires *time.Time
	if n.ExpiresAt != nil {
		e := n.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !e.After(now) {
			return Created{}, &validation.Error{Field: "expires_at", Message: "must be in the future"}
		}
		expires = &e
	}
	caller, _ := principal.From(ctx)
	if caller.Scopes != nil {
		if scopes == nil {
			scopes = inheritable(caller.Scopes)
			if len(scopes) == 0 {
				return Created{}, fmt.Errorf("%w: the credential in use carries no API scopes", ErrScopeEscalation)
			}
		} else if !coveredBy(scopes, caller.Scopes) {
			return Created{}, fmt.Errorf("%w (%s)", ErrScopeEscalation, strings.Join(caller.Scopes, " "))
		}
	}
	owner, err := s.users.UserByID(ctx, n.UserID)
	if errors.Is(err, identity.ErrNotFound) {
		return Created{}, fmt.Errorf("%w: %s", ErrOwnerNotFound, n.UserID)
	}
	if err != nil {
		return Created{}, fmt.Errorf("apikeys: create: %w", err)
	}
	if !owner.Active() {
		return Created{}, ErrOwnerDisabled
	}
	secret, err := newKey()
	if err != nil {
		return Created{}, fmt.Errorf("apikeys: create: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Created{}, fmt.Errorf("apikeys: create: %w", err)
	}
	row := keyRow{
		ID: id.String(), PublicID: secret.PublicID, UserID: owner.ID, Name: name,
		Scopes: strings.Join(scopes, " "), SecretHash: hashHex(secret.Secret),
		ExpiresAt: expires, CreatedAt: now, CreatedBy: caller.ID,
	}
	err = database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		if err := s.store.insert(ctx, &row); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Event{
			Action: "apikey.create",
			Target: audit.Ref{Type: "api_key", ID: row.ID},
			Details: map[string]string{
				"owner": owner.ID, "name": name, "public_id": row.PublicID, "scopes": row.Scopes,
			},
		}); err != nil {
			return err
		}
		if s.notify == nil || owner.Machine {
			return nil
		}
		// The name and the prefix identify the key; the secret never
		// leaves this function but in the answer.
		return s.notify.Notify(ctx, noticeTemplate, owner.Email, map[string]string{"detail": fmt.Sprintf(
			"A new API key named %q, starting %s%s, was created for your account.", name, Prefix, row.PublicID)})
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Key: row.toKey(), Secret: secret.String()}, nil
}

func validName(name string) error {
	if name == "" {
		return &validation.Error{Field: "name", Message: "is required"}
	}
	if utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name) {
		return &validation.Error{Field: "name", Message: fmt.Sprintf("must be at most %d characters of valid UTF-8", MaxNameLen)}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &validation.Error{Field: "name", Message: "must not contain control characters"}
		}
	}
	return nil
}

// Get returns the key with id (ErrNotFound if none).
func (s *Service) Get(ctx context.Context, id string) (Key, error) {
	r, err := s.store.byID(ctx, id)
	if err != nil {
		return Key{}, err
	}
	return r.toKey(), nil
}

// List returns f.UserID's keys, newest first; revoked keys only with
// f.IncludeRevoked.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	var err error
	if f.PageSize, err = page.Size(f.PageSize); err != nil {
		return Page{}, err
	}
	return s.store.list(ctx, f)
}

// Revoke revokes the key with id and returns it. Revoking a revoked key
// changes nothing and records nothing (so clients may retry). The key stops
// working in this process at once, in other replicas within CacheTTL.
func (s *Service) Revoke(ctx context.Context, id string) (Key, error) {
	var out keyRow
	err := database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		r, err := s.store.byID(ctx, id)
		if err != nil {
			return err
		}
		out = r
		if r.RevokedAt != nil {
			return nil
		}
		now := s.now()
		changed, err := s.store.revoke(ctx, id, now)
		if err != nil || !changed {
			return err
		}
		out.RevokedAt = &now
		s.cache.drop(r.PublicID)
		return s.audit.Record(ctx, audit.Event{
			Action:  "apikey.revoke",
			Target:  audit.Ref{Type: "api_key", ID: r.ID},
			Details: map[string]string{"owner": r.UserID, "public_id": r.PublicID},
		})
	})
	if err != nil {
		return Key{}, err
	}
	s.cache.drop(out.PublicID) // again after commit: a concurrent load may have re-read the old row
	return out.toKey(), nil
}

// UserChanged implements identity.Listener: the owner's status or roles
// changed, so cached owner state is dropped and re-read on next use.
func (s *Service) UserChanged(ctx context.Context, userID string) error {
	s.cache.dropOwner(userID)
	return nil
}

// UserDeleted implements identity.Listener: the user's keys are deleted in
// the same transaction as the user.
func (s *Service) UserDeleted(ctx context.Context, userID string) error {
	s.cache.dropOwner(userID)
	pubs, err := s.store.deleteByUser(ctx, userID)
	for _, p := range pubs {
		s.cache.drop(p)
	}
	return err
}

var _ identity.Listener = (*Service)(nil)

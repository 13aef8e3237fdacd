// Package identity owns users, roles, role membership and passwords.
//
// Other modules use the Service through small interfaces they declare
// themselves (UserByID, VerifyPassword, RolesOf, ...). Every multi-step write
// runs in one database.Transact together with its audit event and the
// registered Listeners, so a change, its record and its consequences in other
// modules commit or roll back as one.
package identity

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// Options tune the service. Zero values take the defaults.
type Options struct {
	// Argon2 are the password hashing parameters (default DefaultArgon2).
	// Hashes made with other parameters are upgraded at the next sign-in.
	Argon2 Argon2Params
	// HashConcurrency bounds simultaneous argon2 computations
	// (default 2×GOMAXPROCS).
	HashConcurrency int
	// ReturnHashMemory hands the memory of a burst of password hashes back
	// to the operating system a few seconds after the burst (serve sets it).
	ReturnHashMemory bool
	// SetupTokenTTL is the lifetime of a first-start setup link (24h).
	SetupTokenTTL time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	// Issuer is the public base URL that emailed links start with.
	Issuer string
	// InviteTTL, ResetTTL and VerifyTTL are the lifetimes of emailed links
	// (7 days, 30 minutes, 24 hours; CONTRACT "Email").
	InviteTTL, ResetTTL, VerifyTTL time.Duration
}

// Service is the identity module's public API.
type Service struct {
	db                database.DB
	st                *store
	audit             AuditLog
	hasher            *hasher
	now               func() time.Time
	setupTTL          time.Duration
	listeners         []Listener
	roleListeners     []RoleListener
	passwordListeners []PasswordListener
	mailer            Mailer
	issuer            string
	ttl               struct{ invite, reset, verify time.Duration }

	dummyOnce sync.Once
	dummyHash string
}

// Deps are the services identity calls out to.
type Deps struct {
	// Audit records every change, in the change's transaction.
	Audit AuditLog
	// Mailer sends invitation, reset and verification links and security
	// notices in the change's transaction (mail.Service). Without it those
	// operations fail and an own email change takes effect at once.
	Mailer Mailer
}

// New returns the service over db.
func New(db database.DB, deps Deps, opts Options) *Service {
	log := deps.Audit
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ttl := opts.SetupTokenTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	svc := &Service{
		mailer:   deps.Mailer,
		issuer:   strings.TrimRight(opts.Issuer, "/"),
		db:       db,
		st:       &store{db: db.Gorm, dialect: db.Dialect},
		audit:    log,
		hasher:   newHasher(opts.Argon2, opts.HashConcurrency),
		now:      func() time.Time { return now().UTC().Truncate(time.Microsecond) },
		setupTTL: ttl,
	}
	if opts.ReturnHashMemory {
		svc.hasher.afterBurst = returnMemory
	}
	svc.ttl.invite = cmp.Or(opts.InviteTTL, 7*24*time.Hour)
	svc.ttl.reset = cmp.Or(opts.ResetTTL, 30*time.Minute)
	svc.ttl.verify = cmp.Or(opts.VerifyTTL, 24*time.Hour)
	return svc
}

// HashMemoryBytes is the most memory the password hashes running at once
// can hold: argon2id memory × hash concurrency (serve derives the soft
// memory limit from it).
func (s *Service) HashMemoryBytes() int64 { return s.hasher.memoryBytes() }

// passwordChanged tells the password listeners, inside the transaction.
// keepSessionID is the caller's own browser session when the user changed
// their own password from one.
func (s *Service) passwordChanged(ctx context.Context, id string) error {
	keep := ""
	if p, ok := principal.From(ctx); ok && p.Via == principal.ViaSession && p.ID == id {
		keep = p.CredentialID
	}
	for _, l := range s.passwordListeners {
		if err := l.PasswordChanged(ctx, id, keep); err != nil {
			return fmt.Errorf("identity: password listener: %w", err)
		}
	}
	return nil
}

// AddListener registers l to be told of user changes and deletions inside
// their transactions. Call it while wiring, before serving requests.
func (s *Service) AddListener(l Listener) { s.listeners = append(s.listeners, l) }

// AddRoleListener registers l to be told of deleted roles.
func (s *Service) AddRoleListener(l RoleListener) { s.roleListeners = append(s.roleListeners, l) }

// AddPasswordListener registers l to be told of passwords set.
func (s *Service) AddPasswordListener(l PasswordListener) {
	s.passwordListeners = append(s.passwordListeners, l)
}

func (s *Service) tx(ctx context.Context, fn func(ctx context.Context) error) error {
	return database.Transact(ctx, s.db.Gorm, fn)
}

func (s *Service) changed(ctx context.Context, userID string) error {
	for _, l := range s.listeners {
		if err := l.UserChanged(ctx, userID); err != nil {
			return fmt.Errorf("identity: user-changed listener: %w", err)
		}
	}
	return nil
}

func (s *Service) record(ctx context.Context, action, targetType, targetID string, details map[string]string) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, audit.Event{
		Action: action, Target: audit.Ref{Type: targetType, ID: targetID},
		Outcome: audit.Success, Details: details,
	})
}

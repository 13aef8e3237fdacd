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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
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

// UserByID returns the user with id, or ErrNotFound.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	row, err := s.st.userBy(ctx, "id", id)
	if err != nil {
		return User{}, fmt.Errorf("identity: user %q: %w", id, err)
	}
	return s.st.withRoles(ctx, row)
}

// UserByEmail returns the user with email (compared case-insensitively), or
// ErrNotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.st.userBy(ctx, "email_normalized", strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return User{}, fmt.Errorf("identity: user by email: %w", err)
	}
	return s.st.withRoles(ctx, row)
}

// UserByLogin returns the user whose email (when login contains '@') or
// username matches login case-insensitively, or ErrNotFound.
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	row, err := s.rowByLogin(ctx, login)
	if err != nil {
		return User{}, fmt.Errorf("identity: user by login: %w", err)
	}
	return s.st.withRoles(ctx, row)
}

func (s *Service) rowByLogin(ctx context.Context, login string) (userRow, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || len(login) > MaxEmailBytes {
		return userRow{}, ErrNotFound
	}
	if strings.Contains(login, "@") {
		return s.st.userBy(ctx, "email_normalized", login)
	}
	return s.st.userBy(ctx, "username", login)
}

// RolesOf returns the sorted role names of a user (empty for an unknown id).
func (s *Service) RolesOf(ctx context.Context, userID string) ([]string, error) {
	m, err := s.st.rolesOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("identity: roles of %q: %w", userID, err)
	}
	if m[userID] == nil {
		return []string{}, nil
	}
	return m[userID], nil
}

// RoleExists reports whether a role with name exists.
func (s *Service) RoleExists(ctx context.Context, name string) (bool, error) {
	ok, err := s.st.exists(ctx, &roleRow{}, "name = ?", name)
	if err != nil {
		return false, fmt.Errorf("identity: role exists: %w", err)
	}
	return ok, nil
}

// HasActiveAdmin reports whether any active user holds the admin role.
func (s *Service) HasActiveAdmin(ctx context.Context) (bool, error) {
	n, err := s.st.activeAdmins(ctx, "")
	return n > 0, err
}

// ListUsers returns one page of users matching f, in f.Sort's order.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) (UserPage, error) {
	var err error
	if f.PageSize, err = page.Size(f.PageSize); err != nil {
		return UserPage{}, err
	}
	if len(f.Query) > MaxQueryChars {
		return UserPage{}, invalid("q", "must be at most 254 characters long")
	}
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusDisabled {
		return UserPage{}, invalid("status", "must be active or disabled")
	}
	if f.Sort != "" && f.Sort != SortCreated && f.Sort != SortEmail && f.Sort != SortName {
		return UserPage{}, invalid("sort", "must be created, email or name")
	}
	return s.st.listUsers(ctx, f)
}

// dummyPasswordHash is verified for unknown logins and users without a
// password, so they cost the same time as a wrong password.
func (s *Service) dummyPasswordHash(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		h, err := s.hasher.hash(context.WithoutCancel(ctx), hex.EncodeToString(b))
		if err == nil {
			s.dummyHash = h
		}
	})
	return s.dummyHash
}

// VerifyPassword checks a sign-in. Unknown logins, wrong passwords and users
// without a password all return ErrInvalidCredentials after the same amount
// of hashing work; ErrUserDisabled is returned only after a correct password.
// On success it records the sign-in time and upgrades a hash made with
// older parameters.
func (s *Service) VerifyPassword(ctx context.Context, login, password string) (User, error) {
	row, err := s.rowByLogin(ctx, login)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("identity: verify password: %w", err)
	}
	if err != nil || row.PasswordHash == "" || len(password) > MaxPasswordBytes {
		if _, _, herr := s.hasher.verify(ctx, password, s.dummyPasswordHash(ctx)); herr != nil && ctx.Err() != nil {
			return User{}, ctx.Err()
		}
		return User{}, ErrInvalidCredentials
	}
	ok, rehash, err := s.hasher.verify(ctx, password, row.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("identity: verify password of %s: %w", row.ID, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	if row.Status != StatusActive {
		return User{}, ErrUserDisabled
	}
	now := s.now()
	if rehash {
		if h, err := s.hasher.hash(ctx, password); err == nil {
			// Conditional on the old hash: a password set meanwhile wins.
			s.st.conn(ctx).Model(&userRow{}).Where("id = ? AND password_hash = ?", row.ID, row.PasswordHash).
				Update("password_hash", h)
		}
	}
	if err := s.st.conn(ctx).Model(&userRow{}).Where("id = ?", row.ID).Update("last_sign_in_at", now).Error; err != nil {
		return User{}, fmt.Errorf("identity: record sign-in: %w", err)
	}
	row.LastSignInAt = &now
	return s.st.withRoles(ctx, row)
}

// CheckCurrentPassword verifies password against user id's current one, for
// a change to one's own credentials. A user without a password, an unknown
// id and a wrong password all answer ErrInvalidCredentials after the same
// work (a dummy hash is verified).
func (s *Service) CheckCurrentPassword(ctx context.Context, id, password string) error {
	row, err := s.st.userBy(ctx, "id", id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("identity: check password: %w", err)
	}
	hash := row.PasswordHash
	if err != nil || hash == "" || len(password) > MaxPasswordBytes {
		hash = s.dummyPasswordHash(ctx)
	}
	ok, _, verr := s.hasher.verify(ctx, password, hash)
	if verr != nil {
		return fmt.Errorf("identity: check password: %w", verr)
	}
	if !ok || hash != row.PasswordHash {
		return ErrInvalidCredentials
	}
	return nil
}

// cleanRoles validates, de-duplicates and sorts role names.
func cleanRoles(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, r := range in {
		r = strings.TrimSpace(r)
		if err := CheckRoleName(r); err != nil {
			return nil, invalid("roles", fmt.Sprintf("%q is not a valid role name", r))
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// preparedUser is a validated NewUser with its password already hashed, so
// the transaction does no slow work.
type preparedUser struct {
	row   userRow
	roles []string
}

func (s *Service) prepareUser(ctx context.Context, in NewUser) (preparedUser, error) {
	email, norm, err := normalizeEmail(in.Email)
	if err != nil {
		return preparedUser{}, err
	}
	username, err := normalizeUsername(in.Username)
	if err != nil {
		return preparedUser{}, err
	}
	name, err := checkName(in.Name)
	if err != nil {
		return preparedUser{}, err
	}
	roles, err := cleanRoles(in.Roles)
	if err != nil {
		return preparedUser{}, err
	}
	var hash string
	if in.Password != "" {
		if in.Machine {
			return preparedUser{}, invalid("password", "service accounts (machine users) cannot have a password")
		}
		local, _, _ := strings.Cut(norm, "@")
		if err := CheckPassword(in.Password, norm, local, username); err != nil {
			return preparedUser{}, err
		}
		if hash, err = s.hasher.hash(ctx, in.Password); err != nil {
			return preparedUser{}, fmt.Errorf("identity: hash password: %w", err)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return preparedUser{}, err
	}
	now := s.now()
	row := userRow{
		ID: id.String(), Email: email, EmailNormalized: norm, Name: name,
		NameNormalized: strings.ToLower(name), Status: StatusActive,
		EmailVerified: in.EmailVerified, Machine: in.Machine, PasswordHash: hash,
		CreatedAt: now, UpdatedAt: now,
	}
	if username != "" {
		row.Username = &username
	}
	return preparedUser{row: row, roles: roles}, nil
}

// CreateUser validates and creates a user with its roles. Errors:
// *validation.Error (field named), ErrEmailTaken, ErrUsernameTaken,
// ErrRoleNotFound.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	p, err := s.prepareUser(ctx, in)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.tx(ctx, func(ctx context.Context) error {
		u, err = s.insertUser(ctx, p, nil)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

func (s *Service) insertUser(ctx context.Context, p preparedUser, details map[string]string) (User, error) {
	for _, r := range p.roles {
		ok, err := s.RoleExists(ctx, r)
		if err != nil {
			return User{}, err
		}
		if !ok {
			return User{}, fmt.Errorf("identity: role %q: %w", r, ErrRoleNotFound)
		}
	}
	if err := s.checkUnique(ctx, "", p.row.EmailNormalized, p.row.Username); err != nil {
		return User{}, err
	}
	if err := s.st.conn(ctx).Create(&p.row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return User{}, ErrEmailTaken
		}
		return User{}, fmt.Errorf("identity: create user: %w", err)
	}
	for _, r := range p.roles {
		if err := s.st.conn(ctx).Create(&userRoleRow{UserID: p.row.ID, RoleName: r, CreatedAt: p.row.CreatedAt}).Error; err != nil {
			return User{}, fmt.Errorf("identity: assign role %q: %w", r, err)
		}
	}
	if details == nil {
		details = map[string]string{}
	}
	if len(p.roles) > 0 {
		details["roles"] = strings.Join(p.roles, ",")
	}
	if p.row.Machine {
		details["machine"] = "true"
	}
	if err := s.record(ctx, "user.create", "user", p.row.ID, details); err != nil {
		return User{}, err
	}
	return p.row.toUser(p.roles), nil
}

// checkUnique reports ErrEmailTaken / ErrUsernameTaken when another user
// (not exceptID) has the email or username.
func (s *Service) checkUnique(ctx context.Context, exceptID, emailNorm string, username *string) error {
	if emailNorm != "" {
		taken, err := s.st.exists(ctx, &userRow{}, "email_normalized = ? AND id <> ?", emailNorm, exceptID)
		if err != nil {
			return err
		}
		if taken {
			return ErrEmailTaken
		}
	}
	if username != nil && *username != "" {
		taken, err := s.st.exists(ctx, &userRow{}, "username = ? AND id <> ?", *username, exceptID)
		if err != nil {
			return err
		}
		if taken {
			return ErrUsernameTaken
		}
	}
	return nil
}

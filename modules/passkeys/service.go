// Package passkeys registers WebAuthn discoverable credentials (passkeys)
// and verifies them for sign-in and re-authentication (W3C Web
// Authentication Level 3, §7.1 registration and §7.2 assertion, through
// go-webauthn). Ceremonies are stored in the database under the SHA-256 of
// a random handle, so any replica can finish one begun on another; each is
// used at most once and expires after ChallengeTTL.
//
// The module renders no sign-in page: the sign-in code calls BeginLogin /
// BeginReauth and FinishLogin and owns the session it then creates. The
// account routes (register, rename, remove) are mounted by Module.
package passkeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// DefaultChallengeTTL is how long a begun ceremony may be finished.
const DefaultChallengeTTL = 5 * time.Minute

// Options configure the relying party; zero values take the defaults.
type Options struct {
	// RPOrigin is the issuer URL ("https://id.example.com"); the only origin
	// accepted in clientDataJSON (§7.1 step 9, §7.2 step 13). Required.
	RPOrigin string
	// RPID is the relying party id (default: RPOrigin's host, without port),
	// whose SHA-256 must head authenticatorData (§7.1 step 13).
	RPID string
	// RPName is shown by the authenticator (default "Gatehouse").
	RPName string
	// ChallengeTTL bounds a ceremony's life (default DefaultChallengeTTL).
	ChallengeTTL time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the passkeys module's public API.
type Service struct {
	store    store
	users    UserDirectory
	audit    AuditLog
	notifier Notifier
	opts     Options
	webauthn *webauthn.WebAuthn
}

// Deps are the services passkeys calls out to.
type Deps struct {
	Users UserDirectory
	Audit AuditLog
	// Notifier is optional: the user is mailed a notice when a passkey is
	// added to or removed from their account.
	Notifier Notifier
}

// New returns the service over db. It fails when RPOrigin is not an
// absolute http(s) URL or RPID is not a suffix of its host.
func New(db database.DB, deps Deps, opts Options) (*Service, error) {
	u, err := url.Parse(opts.RPOrigin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("passkeys: RPOrigin %q is not an absolute http(s) URL", opts.RPOrigin)
	}
	origin := u.Scheme + "://" + u.Host // an origin has no path
	if opts.RPID == "" {
		opts.RPID = u.Hostname()
	}
	host := u.Hostname()
	if host != opts.RPID && !strings.HasSuffix(host, "."+opts.RPID) {
		return nil, fmt.Errorf("passkeys: RPID %q is not the origin's host %q or a parent of it", opts.RPID, host)
	}
	if opts.RPName == "" {
		opts.RPName = "Gatehouse"
	}
	if opts.ChallengeTTL <= 0 {
		opts.ChallengeTTL = DefaultChallengeTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.RPOrigin = origin
	w, err := webauthn.New(&webauthn.Config{
		RPID: opts.RPID, RPDisplayName: opts.RPName, RPOrigins: []string{origin},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: opts.ChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: opts.ChallengeTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: relying party: %w", err)
	}
	return &Service{store: store{db: db.Gorm}, users: deps.Users, audit: deps.Audit, notifier: deps.Notifier, opts: opts, webauthn: w}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// List returns the user's passkeys, oldest first.
func (s *Service) List(ctx context.Context, userID string) ([]Passkey, error) {
	rows, err := s.store.credentialsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toPasskey())
	}
	return out, nil
}

// HasPasskey reports whether the user has at least one passkey (the
// "Confirm it's you" page then asks for it rather than the password).
func (s *Service) HasPasskey(ctx context.Context, userID string) (bool, error) {
	n, err := s.store.countOf(ctx, userID)
	return n > 0, err
}

// MaxNameLen bounds a passkey's name (characters).
const MaxNameLen = 100

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", &validation.Error{Field: "name", Message: "is required"}
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen {
		return "", &validation.Error{Field: "name", Message: fmt.Sprintf("must be at most %d characters of valid UTF-8", MaxNameLen)}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", &validation.Error{Field: "name", Message: "must not contain control characters"}
		}
	}
	return name, nil
}

// Rename sets the name of the user's passkey id (ErrNotFound when the user
// has no such passkey) and audits it.
func (s *Service) Rename(ctx context.Context, userID, id, name string) (Passkey, error) {
	name, err := validName(name)
	if err != nil {
		return Passkey{}, err
	}
	var out credentialRow
	err = database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		r, err := s.store.byID(ctx, userID, id)
		if err != nil {
			return err
		}
		if err := s.store.rename(ctx, userID, id, name); err != nil {
			return err
		}
		r.Name = name
		out = r
		return s.audit.Record(ctx, audit.Event{
			Action: "passkey.rename", Target: audit.Ref{Type: "passkey", ID: id},
			Details: map[string]string{"user": userID, "name": name},
		})
	})
	if err != nil {
		return Passkey{}, err
	}
	return out.toPasskey(), nil
}

// Remove deletes the user's passkey id (ErrNotFound when the user has no
// such passkey), audits it and mails the user a notice, all in one
// transaction.
func (s *Service) Remove(ctx context.Context, userID, id string) error {
	return database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		r, err := s.store.byID(ctx, userID, id)
		if err != nil {
			return err
		}
		if err := s.store.remove(ctx, userID, id); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, audit.Event{
			Action: "passkey.remove", Target: audit.Ref{Type: "passkey", ID: id},
			Details: map[string]string{"user": userID, "name": r.Name, "credential_id": r.CredentialID},
		}); err != nil {
			return err
		}
		if s.notifier == nil {
			return nil
		}
		user, err := s.users.UserByID(ctx, userID)
		if err != nil {
			return fmt.Errorf("passkeys: read user: %w", err)
		}
		return s.notify(ctx, user, fmt.Sprintf("The passkey %q was removed from your account.", r.Name))
	})
}

// UserChanged implements identity.Listener. Nothing is cached here: a
// disabled user is refused when FinishLogin reads them.
func (s *Service) UserChanged(ctx context.Context, userID string) error { return nil }

// UserDeleted implements identity.Listener: the user's passkeys and pending
// ceremonies are deleted in the same transaction as the user.
func (s *Service) UserDeleted(ctx context.Context, userID string) error {
	_, err := s.store.deleteByUser(ctx, userID)
	return err
}

var _ identity.Listener = (*Service)(nil)

// activeUser reads the user and refuses a disabled one.
func (s *Service) activeUser(ctx context.Context, userID string) (identity.User, error) {
	u, err := s.users.UserByID(ctx, userID)
	if errors.Is(err, identity.ErrNotFound) {
		return identity.User{}, ErrUnknownCredential
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("passkeys: read user: %w", err)
	}
	if !u.Active() {
		return identity.User{}, ErrUserDisabled
	}
	return u, nil
}

// refuse burns the ceremony of a failed finish and records why, in one
// transaction of its own (the finish's own transaction was rolled back).
func (s *Service) refuse(ctx context.Context, handle string, e audit.Event) {
	e.Outcome = audit.Failure
	err := database.Transact(ctx, s.store.db, func(ctx context.Context) error {
		if handle != "" && len(handle) <= maxHandleLen {
			if err := s.store.deleteChallenge(ctx, hashHandle(handle)); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, e)
	})
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "passkeys: could not record a refusal", "action", e.Action, "error", err)
	}
}

package signin

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// ErrSessionNotFound: the user has no live session with that id (it ended,
// expired, or belongs to someone else).
var ErrSessionNotFound = errSessionNotFound

// UserSession is one live browser session of a user, as the console shows
// it: never its cookie value or hash.
type UserSession struct {
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
	// Methods names the sign-in methods proven ("password, passkey").
	Methods string
}

// UserSessions lists a user's live sessions, newest first.
func (p *Pages) UserSessions(ctx context.Context, userID string) ([]UserSession, error) {
	list, err := p.sessions.listForUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]UserSession, 0, len(list))
	for _, s := range list {
		out = append(out, UserSession{
			ID: s.ID, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt,
			IP: s.IP, UserAgent: s.UserAgent, Methods: methodsLabel(s.AMR),
		})
	}
	return out, nil
}

// EndUserSession signs the user out of one session, audited as the
// account page's "Sign out" ("logout" of the session, by the caller in
// ctx), in one transaction. ErrSessionNotFound when the user has no such
// session.
func (p *Pages) EndUserSession(ctx context.Context, userID, id string) error {
	return database.Transact(ctx, p.db, func(ctx context.Context) error {
		if err := p.sessions.deleteForUserByID(ctx, userID, id); err != nil {
			return err
		}
		return p.recordLogout(ctx, userID, id)
	})
}

// EndUserSessions signs the user out everywhere: one "logout" event per
// session ended, all in one transaction. It reports how many ended.
func (p *Pages) EndUserSessions(ctx context.Context, userID string) (int, error) {
	n := 0
	err := database.Transact(ctx, p.db, func(ctx context.Context) error {
		list, err := p.sessions.listForUser(ctx, userID)
		if err != nil {
			return err
		}
		for _, s := range list {
			err := p.sessions.deleteForUserByID(ctx, userID, s.ID)
			if errors.Is(err, errSessionNotFound) {
				continue // ended meanwhile
			}
			if err != nil {
				return err
			}
			if err := p.recordLogout(ctx, userID, s.ID); err != nil {
				return err
			}
			n++
		}
		// Expired rows the list skipped go too: nothing of the user's stays.
		_, err = p.sessions.deleteForUser(ctx, userID)
		return err
	})
	return n, err
}

func (p *Pages) recordLogout(ctx context.Context, userID, id string) error {
	return p.audit.Record(ctx, audit.Event{
		Action: "logout", Target: audit.Ref{Type: "session", ID: id}, Outcome: audit.Success,
		Details: map[string]string{"user": userID},
	})
}

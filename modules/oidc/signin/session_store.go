package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// sessionDB stores sessions in oidc_sessions. Every method takes its handle
// with database.Conn, so it joins a transaction in ctx (the identity
// listener's, or the sign-in's with its audit event).
type sessionDB struct {
	db       *gorm.DB
	now      func() time.Time
	timeouts sessionTimeouts
}

// newSessionToken returns a fresh cookie value and the hash stored for it.
func newSessionToken() (token, hash string, err error) {
	token = secret.Token(32)
	return token, secret.Hash(token), nil
}

func (s *sessionDB) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// newSessionInput describes a fresh authentication.
type newSessionInput struct {
	UserID    string
	AMR       []string
	IP        string
	UserAgent string
}

// create starts a session after an authentication and returns it with the
// cookie value (shown to nobody else, never stored).
func (s *sessionDB) create(ctx context.Context, in newSessionInput) (session, string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return session{}, "", fmt.Errorf("oidc: session id: %w", err)
	}
	token, hash, err := newSessionToken()
	if err != nil {
		return session{}, "", err
	}
	now := s.clock()
	amr := normalizeAMR(in.AMR)
	row := sessionRow{
		ID: id.String(), TokenHash: hash, UserID: in.UserID,
		CreatedAt: now, LastSeenAt: now, AuthTime: now,
		AMR: strings.Join(amr, " "), ACR: acrFor(amr),
		IP: sessionTruncate(in.IP, 64), UserAgent: sessionTruncate(in.UserAgent, 512),
		ExpiresAt: now.Add(s.timeouts.Absolute),
	}
	if provesPasskey(amr) {
		row.PasskeyAt = &now
	}
	if err := database.Conn(ctx, s.db).Create(&row).Error; err != nil {
		return session{}, "", fmt.Errorf("oidc: create session: %w", err)
	}
	return row.toSession(), token, nil
}

// byToken returns the live session for a cookie value. An expired session is
// deleted and reported as errSessionNotFound. last_seen_at is written at most
// once per Touch interval.
func (s *sessionDB) byToken(ctx context.Context, token string) (session, error) {
	if token == "" || len(token) > 128 {
		return session{}, errSessionNotFound
	}
	var row sessionRow
	err := database.Conn(ctx, s.db).Where("token_hash = ?", secret.Hash(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return session{}, errSessionNotFound
	}
	if err != nil {
		return session{}, fmt.Errorf("oidc: read session: %w", err)
	}
	sess := row.toSession()
	now := s.clock()
	if s.expired(sess, now) {
		if err := s.delete(ctx, sess.ID); err != nil {
			return session{}, err
		}
		return session{}, errSessionNotFound
	}
	if now.Sub(sess.LastSeenAt) >= s.timeouts.Touch {
		if err := database.Conn(ctx, s.db).Model(&sessionRow{}).Where("id = ?", sess.ID).
			Update("last_seen_at", now).Error; err != nil {
			return session{}, fmt.Errorf("oidc: touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

func (s *sessionDB) expired(sess session, now time.Time) bool {
	return !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.timeouts.Idle
}

// byID returns a live session by its public id.
func (s *sessionDB) byID(ctx context.Context, id string) (session, error) {
	var row sessionRow
	err := database.Conn(ctx, s.db).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return session{}, errSessionNotFound
	}
	if err != nil {
		return session{}, fmt.Errorf("oidc: read session: %w", err)
	}
	sess := row.toSession()
	if s.expired(sess, s.clock()) {
		return session{}, errSessionNotFound
	}
	return sess, nil
}

// reauthenticate records a fresh authentication in an existing session:
// auth_time becomes now, methods are added to amr, acr follows amr, and the
// cookie value is replaced (a new authentication level gets a new cookie, so
// a value planted before sign-in is worthless afterwards). The absolute
// expiry is not extended.
func (s *sessionDB) reauthenticate(ctx context.Context, id string, methods []string) (session, string, error) {
	token, hash, err := newSessionToken()
	if err != nil {
		return session{}, "", err
	}
	sess, err := s.addMethods(ctx, id, methods, hash)
	if err != nil {
		return session{}, "", err
	}
	return sess, token, nil
}

// addMethods adds proven methods to the session (and, with newHash, rotates
// its cookie value). It is one read-modify-write in a transaction.
func (s *sessionDB) addMethods(ctx context.Context, id string, methods []string, newHash string) (session, error) {
	var out session
	err := database.Transact(ctx, s.db, func(ctx context.Context) error {
		var row sessionRow
		err := database.Conn(ctx, s.db).Where("id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errSessionNotFound
		}
		if err != nil {
			return fmt.Errorf("oidc: read session: %w", err)
		}
		now := s.clock()
		if s.expired(row.toSession(), now) {
			return errSessionNotFound
		}
		amr := normalizeAMR(append(strings.Fields(row.AMR), methods...))
		updates := map[string]any{
			"amr":          strings.Join(amr, " "),
			"acr":          acrFor(amr),
			"auth_time":    now,
			"last_seen_at": now,
		}
		if newHash != "" {
			updates["token_hash"] = newHash
		}
		if provesPasskey(methods) {
			updates["passkey_at"] = now
			row.PasskeyAt = &now
		}
		res := database.Conn(ctx, s.db).Model(&sessionRow{}).Where("id = ?", id).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("oidc: update session: %w", res.Error)
		}
		row.AMR, row.ACR, row.AuthTime, row.LastSeenAt = updates["amr"].(string), updates["acr"].(string), now, now
		out = row.toSession()
		return nil
	})
	return out, err
}

// delete removes one session; a missing one is not an error (sign-out is
// idempotent).
func (s *sessionDB) delete(ctx context.Context, id string) error {
	if err := database.Conn(ctx, s.db).Where("id = ?", id).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("oidc: delete session: %w", err)
	}
	return nil
}

// deleteForUser ends every session of a user and reports how many ended.
func (s *sessionDB) deleteForUser(ctx context.Context, userID string) (int64, error) {
	res := database.Conn(ctx, s.db).Where("user_id = ?", userID).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("oidc: delete sessions of user: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// deleteForUserExcept ends every session of a user but keepID ("" keeps
// none) and reports how many ended.
func (s *sessionDB) deleteForUserExcept(ctx context.Context, userID, keepID string) (int64, error) {
	q := database.Conn(ctx, s.db).Where("user_id = ?", userID)
	if keepID != "" {
		q = q.Where("id <> ?", keepID)
	}
	res := q.Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("oidc: delete sessions of user: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// deleteForUserByID ends one session of a user; errSessionNotFound when the
// user has no such session (so nobody ends another user's session).
func (s *sessionDB) deleteForUserByID(ctx context.Context, userID, id string) error {
	res := database.Conn(ctx, s.db).Where("id = ? AND user_id = ?", id, userID).Delete(&sessionRow{})
	if res.Error != nil {
		return fmt.Errorf("oidc: delete session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return errSessionNotFound
	}
	return nil
}

// listForUser returns the user's live sessions, newest first.
func (s *sessionDB) listForUser(ctx context.Context, userID string) ([]session, error) {
	var rows []sessionRow
	if err := database.Conn(ctx, s.db).Where("user_id = ?", userID).
		Order("created_at DESC, id DESC").Limit(200).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("oidc: list sessions: %w", err)
	}
	now := s.clock()
	out := make([]session, 0, len(rows))
	for _, r := range rows {
		if sess := r.toSession(); !s.expired(sess, now) {
			out = append(out, sess)
		}
	}
	return out, nil
}

// deleteExpired removes sessions past their absolute or idle end.
func (s *sessionDB) deleteExpired(ctx context.Context) (int64, error) {
	now := s.clock()
	res := database.Conn(ctx, s.db).
		Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-s.timeouts.Idle)).
		Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("oidc: delete expired sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

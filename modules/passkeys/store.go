package passkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/database"
)

// credentialRow is the passkeys_credentials row; only this package touches
// it. CredentialID is base64url without padding; Transports is
// comma-separated.
type credentialRow struct {
	ID                string `gorm:"primaryKey"`
	UserID            string
	CredentialID      string
	PublicKey         []byte
	SignCount         int64
	AAGUID            string `gorm:"column:aaguid"`
	Transports        string
	BackupEligible    bool
	BackupState       bool
	UserVerified      bool
	AttestationType   string
	AttestationFormat string
	Name              string
	CreatedAt         time.Time
	LastUsedAt        *time.Time
}

func (credentialRow) TableName() string { return "passkeys_credentials" }

func (r credentialRow) toPasskey() Passkey {
	p := Passkey{
		ID: r.ID, UserID: r.UserID, Name: r.Name, CredentialID: r.CredentialID,
		AAGUID: r.AAGUID, BackupEligible: r.BackupEligible, BackupState: r.BackupState,
		UserVerified: r.UserVerified, AttestationType: r.AttestationType,
		SignCount: uint32(r.SignCount), CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Transports != "" {
		p.Transports = strings.Split(r.Transports, ",")
	}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

// challengeRow is the passkeys_challenges row. ID is the hex SHA-256 of the
// handle; SessionData is go-webauthn's SessionData as JSON.
type challengeRow struct {
	ID          string `gorm:"primaryKey"`
	UserID      *string
	Kind        string
	SessionData string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (challengeRow) TableName() string { return "passkeys_challenges" }

// Challenge kinds.
const (
	kindRegistration = "registration"
	kindLogin        = "login"
)

// store is the module's only access to its tables. Every method joins the
// transaction in ctx (database.Conn).
type store struct{ db *gorm.DB }

func (s store) conn(ctx context.Context) *gorm.DB { return database.Conn(ctx, s.db) }

func (s store) insertCredential(ctx context.Context, r *credentialRow) error {
	err := s.conn(ctx).Create(r).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("passkeys: insert credential: %w", err)
	}
	return nil
}

func (s store) credentialsOf(ctx context.Context, userID string) ([]credentialRow, error) {
	var rows []credentialRow
	if err := s.conn(ctx).Where("user_id = ?", userID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("passkeys: list credentials: %w", err)
	}
	return rows, nil
}

func (s store) countOf(ctx context.Context, userID string) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&credentialRow{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("passkeys: count credentials: %w", err)
	}
	return n, nil
}

func (s store) byCredentialID(ctx context.Context, credID string) (credentialRow, error) {
	return s.take(ctx, "credential_id = ?", credID)
}

func (s store) byID(ctx context.Context, userID, id string) (credentialRow, error) {
	return s.take(ctx, "id = ? AND user_id = ?", id, userID)
}

func (s store) take(ctx context.Context, where string, args ...any) (credentialRow, error) {
	var r credentialRow
	err := s.conn(ctx).Where(where, args...).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return credentialRow{}, ErrNotFound
	}
	if err != nil {
		return credentialRow{}, fmt.Errorf("passkeys: read credential: %w", err)
	}
	return r, nil
}

// recordUse writes the state after a verified assertion, compare-and-swap on
// the sign count read before verification: of two concurrent assertions
// with the same counter, only one is written; the other gets ErrCloned.
func (s store) recordUse(ctx context.Context, r credentialRow, oldCount int64) error {
	res := s.conn(ctx).Model(&credentialRow{}).
		Where("id = ? AND sign_count = ?", r.ID, oldCount).
		Updates(map[string]any{
			"sign_count": r.SignCount, "backup_state": r.BackupState,
			"user_verified": r.UserVerified, "last_used_at": r.LastUsedAt,
		})
	if res.Error != nil {
		return fmt.Errorf("passkeys: record use: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrCloned
	}
	return nil
}

func (s store) rename(ctx context.Context, userID, id, name string) error {
	res := s.conn(ctx).Model(&credentialRow{}).Where("id = ? AND user_id = ?", id, userID).Update("name", name)
	if res.Error != nil {
		return fmt.Errorf("passkeys: rename: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func (s store) remove(ctx context.Context, userID, id string) error {
	res := s.conn(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&credentialRow{})
	if res.Error != nil {
		return fmt.Errorf("passkeys: remove: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// deleteByUser removes every passkey and pending ceremony of a user.
func (s store) deleteByUser(ctx context.Context, userID string) (int64, error) {
	res := s.conn(ctx).Where("user_id = ?", userID).Delete(&credentialRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("passkeys: delete user's passkeys: %w", res.Error)
	}
	if err := s.conn(ctx).Where("user_id = ?", userID).Delete(&challengeRow{}).Error; err != nil {
		return 0, fmt.Errorf("passkeys: delete user's ceremonies: %w", err)
	}
	return res.RowsAffected, nil
}

func (s store) insertChallenge(ctx context.Context, r *challengeRow) error {
	if err := s.conn(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("passkeys: save ceremony: %w", err)
	}
	return nil
}

// takeChallenge deletes the challenge row with id and returns it, in one
// statement (DELETE ... RETURNING), so of two concurrent finishes exactly
// one gets the row. ErrChallengeUnknown when there is none.
func (s store) takeChallenge(ctx context.Context, id string) (challengeRow, error) {
	var rows []challengeRow
	res := s.conn(ctx).Clauses(clause.Returning{}).Where("id = ?", id).Delete(&rows)
	if res.Error != nil {
		return challengeRow{}, fmt.Errorf("passkeys: take ceremony: %w", res.Error)
	}
	if res.RowsAffected != 1 || len(rows) != 1 {
		return challengeRow{}, ErrChallengeUnknown
	}
	return rows[0], nil
}

// deleteChallenge removes a challenge (no error when it is already gone).
func (s store) deleteChallenge(ctx context.Context, id string) error {
	if err := s.conn(ctx).Where("id = ?", id).Delete(&challengeRow{}).Error; err != nil {
		return fmt.Errorf("passkeys: delete ceremony: %w", err)
	}
	return nil
}

// deleteExpiredChallenges removes ceremonies that expired before now.
func (s store) deleteExpiredChallenges(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at < ?", now).Delete(&challengeRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("passkeys: delete expired ceremonies: %w", res.Error)
	}
	return res.RowsAffected, nil
}

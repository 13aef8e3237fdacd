package apikeys

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/page"
)

// keyRow is the apikeys_keys row; only this package touches it. Scopes are
// space-separated ("" = unrestricted); SecretHash is hex SHA-256 of the
// secret part of the key.
type keyRow struct {
	ID         string `gorm:"primaryKey"`
	PublicID   string
	UserID     string
	Name       string
	Scopes     string
	SecretHash string
	ExpiresAt  *time.Time
	CreatedAt  time.Time
	CreatedBy  string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (keyRow) TableName() string { return "apikeys_keys" }

func (r keyRow) toKey() Key {
	k := Key{
		ID: r.ID, PublicID: r.PublicID, UserID: r.UserID, Name: r.Name,
		ExpiresAt: utcPtr(r.ExpiresAt), CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy,
		LastUsedAt: utcPtr(r.LastUsedAt), RevokedAt: utcPtr(r.RevokedAt),
	}
	if r.Scopes != "" {
		k.Scopes = strings.Fields(r.Scopes)
	}
	return k
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// store is the module's only access to its table. Every method joins the
// transaction in ctx (database.Conn).
type store struct{ db *gorm.DB }

func (s store) conn(ctx context.Context) *gorm.DB { return database.Conn(ctx, s.db) }

func (s store) insert(ctx context.Context, r *keyRow) error {
	if err := s.conn(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("apikeys: insert key: %w", err)
	}
	return nil
}

func (s store) byID(ctx context.Context, id string) (keyRow, error) {
	return s.take(ctx, "id = ?", id)
}

func (s store) byPublicID(ctx context.Context, pub string) (keyRow, error) {
	return s.take(ctx, "public_id = ?", pub)
}

func (s store) take(ctx context.Context, where string, arg string) (keyRow, error) {
	var r keyRow
	err := s.conn(ctx).Where(where, arg).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return keyRow{}, ErrNotFound
	}
	if err != nil {
		return keyRow{}, fmt.Errorf("apikeys: read key: %w", err)
	}
	return r, nil
}

// list pages by id descending (UUIDv7: newest first).
func (s store) list(ctx context.Context, f Filter) (Page, error) {
	q := s.conn(ctx).Where("user_id = ?", f.UserID)
	if !f.IncludeRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	if f.PageToken != "" {
		after, err := page.Decode(f.PageToken, 1)
		if err != nil {
			return Page{}, err
		}
		q = q.Where("id < ?", after[0])
	}
	var rows []keyRow
	if err := q.Order("id DESC").Limit(f.PageSize + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("apikeys: list keys: %w", err)
	}
	return page.Cut(rows, f.PageSize, func(r keyRow) []string { return []string{r.ID} }, keyRow.toKey), nil
}

// revoke sets revoked_at unless already set; it reports whether it did.
func (s store) revoke(ctx context.Context, id string, at time.Time) (bool, error) {
	res := s.conn(ctx).Model(&keyRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", at)
	if res.Error != nil {
		return false, fmt.Errorf("apikeys: revoke key: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// deleteByUser removes every key of a user and returns their public ids.
func (s store) deleteByUser(ctx context.Context, userID string) ([]string, error) {
	var pubs []string
	if err := s.conn(ctx).Model(&keyRow{}).Where("user_id = ?", userID).Pluck("public_id", &pubs).Error; err != nil {
		return nil, fmt.Errorf("apikeys: delete user's keys: %w", err)
	}
	if err := s.conn(ctx).Where("user_id = ?", userID).Delete(&keyRow{}).Error; err != nil {
		return nil, fmt.Errorf("apikeys: delete user's keys: %w", err)
	}
	return pubs, nil
}

// touch moves last_used_at forward (never back: replicas flush concurrently).
func (s store) touch(ctx context.Context, id string, at time.Time) error {
	err := s.conn(ctx).Model(&keyRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at).
		Update("last_used_at", at).Error
	if err != nil {
		return fmt.Errorf("apikeys: record last use: %w", err)
	}
	return nil
}

func hashHex(secret string) string {
	h := hashSecret(secret)
	return hex.EncodeToString(h[:])
}

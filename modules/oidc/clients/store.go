package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
)

type clientRow struct {
	ID                     string   `gorm:"primaryKey"`
	Name                   string   `gorm:"not null"`
	Public                 bool     `gorm:"not null"`
	FirstParty             bool     `gorm:"not null"`
	RedirectURIs           []string `gorm:"column:redirect_uris;serializer:json"`
	PostLogoutRedirectURIs []string `gorm:"column:post_logout_redirect_uris;serializer:json"`
	GrantTypes             []string `gorm:"serializer:json"`
	Scopes                 []string `gorm:"serializer:json"`
	AccessTokenTTL         int64    `gorm:"column:access_token_ttl"`
	IDTokenTTL             int64    `gorm:"column:id_token_ttl"`
	RefreshTokenTTL        int64    `gorm:"column:refresh_token_ttl"`
	RefreshTokenIdleTTL    int64    `gorm:"column:refresh_token_idle_ttl"`
	IDTokenAlg             string   `gorm:"column:id_token_alg"`
	AccessTokenAlg         string   `gorm:"column:access_token_alg;not null"`
	PermissionsClaim       bool     `gorm:"column:permissions_claim;not null"`
	RequirePKCE            bool     `gorm:"column:require_pkce;not null"`
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

func (clientRow) TableName() string { return "oidc_clients" }

type clientSecretRow struct {
	ID         string `gorm:"primaryKey"`
	ClientID   string
	SecretHash string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
}

func (clientSecretRow) TableName() string { return "oidc_client_secrets" }

func toClientRow(c Client) clientRow {
	return clientRow{
		ID: c.ID, Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes),
		AccessTokenTTL: int64(c.AccessTokenTTL / time.Second), IDTokenTTL: int64(c.IDTokenTTL / time.Second),
		RefreshTokenTTL: int64(c.RefreshTokenTTL / time.Second), RefreshTokenIdleTTL: int64(c.RefreshTokenIdleTTL / time.Second),
		IDTokenAlg: c.IDTokenAlg, AccessTokenAlg: c.AccessTokenAlg, PermissionsClaim: c.PermissionsClaim, RequirePKCE: c.RequirePKCE,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (r clientRow) toClient() Client {
	return Client{
		ID: r.ID, Name: r.Name, Public: r.Public, FirstParty: r.FirstParty,
		RedirectURIs: nonNil(r.RedirectURIs), PostLogoutRedirectURIs: nonNil(r.PostLogoutRedirectURIs),
		GrantTypes: nonNil(r.GrantTypes), Scopes: nonNil(r.Scopes),
		AccessTokenTTL: time.Duration(r.AccessTokenTTL) * time.Second, IDTokenTTL: time.Duration(r.IDTokenTTL) * time.Second,
		RefreshTokenTTL: time.Duration(r.RefreshTokenTTL) * time.Second, RefreshTokenIdleTTL: time.Duration(r.RefreshTokenIdleTTL) * time.Second,
		IDTokenAlg: r.IDTokenAlg, AccessTokenAlg: r.AccessTokenAlg, PermissionsClaim: r.PermissionsClaim, RequirePKCE: r.RequirePKCE,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clientStore is the persistence of clients and their secrets.
type clientStore struct{ db *gorm.DB }

func (s *clientStore) create(ctx context.Context, c Client, secretHash string, now time.Time) error {
	row := toClientRow(c)
	if err := database.Conn(ctx, s.db).Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: create client: %w", err)
	}
	if secretHash != "" {
		if err := s.addSecret(ctx, c.ID, secretHash, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *clientStore) addSecret(ctx context.Context, clientID, secretHash string, now time.Time) error {
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	row := clientSecretRow{ID: id.String(), ClientID: clientID, SecretHash: secretHash, CreatedAt: now}
	if err := database.Conn(ctx, s.db).Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: add client secret: %w", err)
	}
	return nil
}

// expireSecrets makes every current secret of the client expire at until
// (the overlap window of a rotation), except those expiring sooner.
func (s *clientStore) expireSecrets(ctx context.Context, clientID string, until time.Time) error {
	err := database.Conn(ctx, s.db).Model(&clientSecretRow{}).
		Where("client_id = ? AND (expires_at IS NULL OR expires_at > ?)", clientID, until).
		Update("expires_at", until).Error
	if err != nil {
		return fmt.Errorf("oidc: expire client secrets: %w", err)
	}
	return database.Conn(ctx, s.db).Where("client_id = ? AND expires_at IS NOT NULL AND expires_at < ?", clientID, until.Add(-24*time.Hour)).
		Delete(&clientSecretRow{}).Error
}

func (s *clientStore) get(ctx context.Context, id string) (*clientRecord, error) {
	var row clientRow
	err := database.Conn(ctx, s.db).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("oidc: client %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: get client: %w", err)
	}
	var secrets []clientSecretRow
	if err := database.Conn(ctx, s.db).Where("client_id = ?", id).Find(&secrets).Error; err != nil {
		return nil, fmt.Errorf("oidc: get client secrets: %w", err)
	}
	return &clientRecord{Client: row.toClient(), secrets: secrets}, nil
}

// update replaces the client's row; the caller read it in the same
// transaction (compare-and-swap by updated_at guards concurrent writers).
func (s *clientStore) update(ctx context.Context, c Client, prevUpdated time.Time) error {
	row := toClientRow(c)
	res := database.Conn(ctx, s.db).Model(&clientRow{}).Where("id = ? AND updated_at = ?", c.ID, prevUpdated).
		Select("*").Omit("id", "created_at").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("oidc: update client: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("oidc: update client %q: changed concurrently or deleted: %w", c.ID, ErrNotFound)
	}
	return nil
}

func (s *clientStore) delete(ctx context.Context, id string) error {
	res := database.Conn(ctx, s.db).Where("id = ?", id).Delete(&clientRow{})
	if res.Error != nil {
		return fmt.Errorf("oidc: delete client: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("oidc: client %q: %w", id, ErrNotFound)
	}
	return database.Conn(ctx, s.db).Where("client_id = ?", id).Delete(&clientSecretRow{}).Error
}

// list returns up to limit clients after the cursor (ordered by id, which is
// a UUIDv7 and so creation order).
func (s *clientStore) list(ctx context.Context, limit int, after string) ([]Client, error) {
	var rows []clientRow
	q := database.Conn(ctx, s.db).Order("id").Limit(limit)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("oidc: list clients: %w", err)
	}
	out := make([]Client, len(rows))
	for i, r := range rows {
		out[i] = r.toClient()
	}
	return out, nil
}

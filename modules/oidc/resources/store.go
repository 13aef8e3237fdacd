package resources

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
)

type resourceRow struct {
	ID         string   `gorm:"primaryKey"`
	Identifier string   `gorm:"not null"`
	Name       string   `gorm:"not null"`
	Scopes     []string `gorm:"serializer:json"`
	ClientIDs  []string `gorm:"column:client_ids;serializer:json"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (resourceRow) TableName() string { return "oidc_resources" }

func (r resourceRow) toResource() Resource {
	return Resource{ID: r.ID, Identifier: r.Identifier, Name: r.Name, Scopes: nonNil(r.Scopes),
		ClientIDs: nonNil(r.ClientIDs), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// store is the persistence of resources.
type store struct{ db *gorm.DB }

func (s *store) create(ctx context.Context, r Resource) error {
	row := resourceRow{ID: r.ID, Identifier: r.Identifier, Name: r.Name, Scopes: nonNil(r.Scopes),
		ClientIDs: nonNil(r.ClientIDs), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	err := database.Conn(ctx, s.db).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("oidc: resource %q: %w", r.Identifier, ErrIdentifierTaken)
	}
	if err != nil {
		return fmt.Errorf("oidc: create resource: %w", err)
	}
	return nil
}

func (s *store) take(ctx context.Context, column, value string) (Resource, error) {
	var row resourceRow
	err := database.Conn(ctx, s.db).Where(column+" = ?", value).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Resource{}, fmt.Errorf("oidc: resource %q: %w", value, ErrNotFound)
	}
	if err != nil {
		return Resource{}, fmt.Errorf("oidc: get resource: %w", err)
	}
	return row.toResource(), nil
}

// update replaces the name, scopes and client ids of r; the caller read it
// in the same transaction (compare-and-swap by updated_at guards concurrent
// writers).
func (s *store) update(ctx context.Context, r Resource, prevUpdated time.Time) error {
	res := database.Conn(ctx, s.db).Model(&resourceRow{}).Where("id = ? AND updated_at = ?", r.ID, prevUpdated).
		Select("name", "scopes", "client_ids", "updated_at").
		Updates(&resourceRow{Name: r.Name, Scopes: nonNil(r.Scopes), ClientIDs: nonNil(r.ClientIDs), UpdatedAt: r.UpdatedAt})
	if res.Error != nil {
		return fmt.Errorf("oidc: update resource: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("oidc: update resource %q: %w", r.ID, ErrChanged)
	}
	return nil
}

func (s *store) delete(ctx context.Context, id string) (Resource, error) {
	r, err := s.take(ctx, "id", id)
	if err != nil {
		return Resource{}, err
	}
	if err := database.Conn(ctx, s.db).Where("id = ?", id).Delete(&resourceRow{}).Error; err != nil {
		return Resource{}, fmt.Errorf("oidc: delete resource: %w", err)
	}
	return r, nil
}

// list returns up to limit resources after the cursor, in creation (UUIDv7) order.
func (s *store) list(ctx context.Context, limit int, after string) ([]Resource, error) {
	var rows []resourceRow
	q := database.Conn(ctx, s.db).Order("id").Limit(limit)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("oidc: list resources: %w", err)
	}
	out := make([]Resource, len(rows))
	for i, r := range rows {
		out[i] = r.toResource()
	}
	return out, nil
}

package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/database"
)

// consentRow remembers the scopes a user allowed a client: the union of
// every decision, so a later request for a subset needs no new consent.
type consentRow struct {
	UserID    string    `gorm:"column:user_id;primaryKey"`
	ClientID  string    `gorm:"column:client_id;primaryKey"`
	Scopes    string    `gorm:"column:scopes"`
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

func (consentRow) TableName() string { return "oidc_consents" }

// consentDB stores remembered consent in oidc_consents.
type consentDB struct {
	db  *gorm.DB
	now func() time.Time
}

// covers reports whether the user already allowed the client every scope.
func (s *consentDB) covers(ctx context.Context, userID, clientID string, scopes []string) (bool, error) {
	var row consentRow
	err := database.Conn(ctx, s.db).Where("user_id = ? AND client_id = ?", userID, clientID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("oidc: read consent: %w", err)
	}
	granted := strings.Fields(row.Scopes)
	for _, sc := range scopes {
		if !slices.Contains(granted, sc) {
			return false, nil
		}
	}
	return true, nil
}

// grant adds scopes to what the user allowed the client. One transaction:
// read, merge, upsert.
func (s *consentDB) grant(ctx context.Context, userID, clientID string, scopes []string) error {
	return database.Transact(ctx, s.db, func(ctx context.Context) error {
		var row consentRow
		err := database.Conn(ctx, s.db).Where("user_id = ? AND client_id = ?", userID, clientID).Take(&row).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("oidc: read consent: %w", err)
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		merged := normalizeAMR(append(strings.Fields(row.Scopes), scopes...)) // sorted set
		next := consentRow{UserID: userID, ClientID: clientID, Scopes: strings.Join(merged, " "), CreatedAt: now, UpdatedAt: now}
		err = database.Conn(ctx, s.db).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}, {Name: "client_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"scopes", "updated_at"}),
		}).Create(&next).Error
		if err != nil {
			return fmt.Errorf("oidc: save consent: %w", err)
		}
		return nil
	})
}

// deleteForUser forgets every consent of a deleted user.
func (s *consentDB) deleteForUser(ctx context.Context, userID string) error {
	if err := database.Conn(ctx, s.db).Where("user_id = ?", userID).Delete(&consentRow{}).Error; err != nil {
		return fmt.Errorf("oidc: delete consents: %w", err)
	}
	return nil
}

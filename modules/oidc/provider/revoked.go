package provider

// Access tokens are JWTs verified offline, so revoking one is a denylist:
// rows in oidc_revoked_tokens naming a token (its jti), a grant (every token
// of it) or a user (every token issued to them up to revoked_at).
//
// A check of an access token asks the database for exactly the rows that
// could revoke it — id IN (jti, grant id, "subject:"+sub), a primary-key
// look-up — unless the revocation watch (revocation_watch.go) says nothing
// can have been revoked since this token was last looked up on this
// replica. A revocation committed on this replica is seen by every check
// that starts after it; on another replica, once its notification arrives.
// The signature check is cached (verifiedCache), and so is the "not
// revoked" answer, tied to the watch's stamp.
//
// History: a shared 1 ms poll round (every check waited for a poll started
// after it: 1.15 ms per request for a lone caller) was replaced by the
// look-up per check (25 µs wall, ~35 µs CPU, ~44% of an introspection's
// CPU), which the watch now skips when nothing was revoked.

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of rows in oidc_revoked_tokens.
const (
	revokedAccessToken = "access_token" // id is the token's jti
	revokedGrant       = "grant"        // id is a grant id: every token of that grant
	revokedSubject     = "subject"      // id is "subject:"+user id: every token issued to them until revoked_at
)

type revokedTokenRow struct {
	ID        string `gorm:"primaryKey"`
	Kind      string
	RevokedAt time.Time
	ExpiresAt time.Time
}

func (revokedTokenRow) TableName() string { return "oidc_revoked_tokens" }

// denylist records and checks revocations of access tokens.
type denylist struct {
	db    *gorm.DB
	now   func() time.Time
	watch *revocationWatch
}

// record persists a revocation (idempotent). For revokedSubject, id is the
// user id.
func (d *denylist) record(ctx context.Context, id, kind string, expires time.Time) error {
	row := revokedTokenRow{ID: id, Kind: kind, RevokedAt: d.now(), ExpiresAt: expires}
	q := database.Conn(ctx, d.db)
	if kind == revokedSubject {
		// A later revocation of the same user moves the cut-off forward.
		row.ID = "subject:" + id
		q = q.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"revoked_at", "expires_at"})})
	} else {
		q = q.Clauses(clause.OnConflict{DoNothing: true})
	}
	if err := q.Create(&row).Error; err != nil {
		return fmt.Errorf("oidc: record revocation: %w", err)
	}
	return d.watch.revoking(ctx)
}

// revoked reports whether a token (jti, of grant grantID, issued at iat to
// sub) is revoked now: itself, its grant, or every token of its user issued
// up to then (disabled or deleted). grantID may be empty.
func (d *denylist) revoked(ctx context.Context, jti, grantID, sub string, iat time.Time) (bool, error) {
	ids := []string{jti, "subject:" + sub}
	if grantID != "" {
		ids = append(ids, grantID)
	}
	// Raw: on this hot path gorm's statement building cost a fifth of the
	// look-up's CPU.
	var rows []revokedTokenRow
	if err := database.Conn(ctx, d.db).Raw("SELECT kind, revoked_at FROM oidc_revoked_tokens WHERE id IN ?", ids).Scan(&rows).Error; err != nil {
		return false, fmt.Errorf("oidc: check revocation: %w", err)
	}
	for _, r := range rows {
		if r.Kind != revokedSubject || !iat.After(r.RevokedAt) {
			return true, nil
		}
	}
	return false, nil
}

func (d *denylist) purge(ctx context.Context) error {
	return database.Conn(ctx, d.db).Where("expires_at < ?", d.now().Add(-time.Hour)).Delete(&revokedTokenRow{}).Error
}

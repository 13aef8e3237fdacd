package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/database"
)

// policyRow is an authz_policies row; only this package touches it.
type policyRow struct {
	ID        string `gorm:"primaryKey"`
	Subject   string
	Resource  string
	Action    string
	Effect    string
	Condition string
	BuiltIn   bool
	CreatedAt time.Time
}

func (policyRow) TableName() string { return "authz_policies" }

func (r policyRow) toPolicy() Policy {
	return Policy{ID: r.ID, Subject: r.Subject, Resource: r.Resource, Action: r.Action,
		Effect: r.Effect, Condition: r.Condition, BuiltIn: r.BuiltIn, CreatedAt: r.CreatedAt.UTC()}
}

// parentRow is an authz_role_parents row: role inherits parent's rules.
type parentRow struct {
	Role      string `gorm:"primaryKey"`
	Parent    string `gorm:"primaryKey"`
	BuiltIn   bool
	CreatedAt time.Time
}

func (parentRow) TableName() string { return "authz_role_parents" }

// stateRow is the single authz_state row whose version is bumped in the
// transaction of every change; instances poll it to reload.
type stateRow struct {
	ID      int `gorm:"primaryKey"`
	Version int64
	// RolesVersion is bumped when any user's roles or status change; other
	// instances then drop their cached roles (policies need no reload).
	RolesVersion int64
}

func (stateRow) TableName() string { return "authz_state" }

type store struct{ db *gorm.DB }

func (s store) conn(ctx context.Context) *gorm.DB { return database.Conn(ctx, s.db) }

func (s store) version(ctx context.Context) (int64, error) {
	row, err := s.state(ctx)
	return row.Version, err
}

func (s store) state(ctx context.Context) (stateRow, error) {
	var row stateRow
	if err := s.conn(ctx).Where("id = ?", 1).Take(&row).Error; err != nil {
		return stateRow{}, fmt.Errorf("authz: read version: %w", err)
	}
	return row, nil
}

// bumpRoles increments roles_version in the caller's transaction.
func (s store) bumpRoles(ctx context.Context) error {
	res := s.conn(ctx).Model(&stateRow{}).Where("id = ?", 1).Update("roles_version", gorm.Expr("roles_version + 1"))
	if res.Error != nil {
		return fmt.Errorf("authz: bump roles version: %w", res.Error)
	}
	return nil
}

// bump increments the version; call it first inside the change's
// transaction: on PostgreSQL its row lock then serializes policy changes in
// one order (no deadlocks, and the cycle check of role inheritance sees
// every committed edge).
func (s store) bump(ctx context.Context) error {
	res := s.conn(ctx).Model(&stateRow{}).Where("id = ?", 1).Update("version", gorm.Expr("version + 1"))
	if res.Error != nil {
		return fmt.Errorf("authz: bump version: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return errors.New("authz: authz_state row missing")
	}
	return nil
}

func (s store) allPolicies(ctx context.Context) ([]policyRow, error) {
	var rows []policyRow
	if err := s.conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: load policies: %w", err)
	}
	return rows, nil
}

func (s store) allParents(ctx context.Context) ([]parentRow, error) {
	var rows []parentRow
	if err := s.conn(ctx).Order("role, parent").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: load role parents: %w", err)
	}
	return rows, nil
}

type policyFilter struct {
	Subject  string
	Resource string
	After    string
	Limit    int
}

func (s store) listPolicies(ctx context.Context, f policyFilter) ([]policyRow, error) {
	q := s.conn(ctx).Order("id").Limit(f.Limit)
	if f.Subject != "" {
		q = q.Where("subject = ?", f.Subject)
	}
	if f.Resource != "" {
		q = q.Where("resource = ?", f.Resource)
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	var rows []policyRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: list policies: %w", err)
	}
	return rows, nil
}

func (s store) getPolicy(ctx context.Context, id string) (policyRow, error) {
	var row policyRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return row, fmt.Errorf("authz: get policy: %w", err)
	}
	return row, nil
}

func (s store) insertPolicies(ctx context.Context, rows []policyRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.conn(ctx).CreateInBatches(rows, 200).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("policy already exists: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("authz: insert policies: %w", err)
	}
	return nil
}

// updatePolicy rewrites the rule of a stored policy that is not built in.
func (s store) updatePolicy(ctx context.Context, id string, r Rule) error {
	res := s.conn(ctx).Model(&policyRow{}).Where("id = ? AND built_in = ?", id, false).Updates(map[string]any{
		"subject": r.Subject, "resource": r.Resource, "action": r.Action, "effect": r.Effect, "condition": r.Condition,
	})
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("policy already exists: %w", ErrConflict)
	}
	if res.Error != nil {
		return fmt.Errorf("authz: update policy: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s store) deletePolicy(ctx context.Context, id string) error {
	res := s.conn(ctx).Where("id = ? AND built_in = ?", id, false).Delete(&policyRow{})
	if res.Error != nil {
		return fmt.Errorf("authz: delete policy: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	return nil
}

func (s store) deleteCustomPolicies(ctx context.Context) error {
	if err := s.conn(ctx).Where("built_in = ?", false).Delete(&policyRow{}).Error; err != nil {
		return fmt.Errorf("authz: delete policies: %w", err)
	}
	return nil
}

func (s store) deleteSubjectPolicies(ctx context.Context, subject string) (int64, error) {
	res := s.conn(ctx).Where("subject = ? AND built_in = ?", subject, false).Delete(&policyRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("authz: delete policies of %s: %w", subject, res.Error)
	}
	return res.RowsAffected, nil
}

func (s store) insertParents(ctx context.Context, rows []parentRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 200).Error
	if err != nil {
		return fmt.Errorf("authz: insert role parents: %w", err)
	}
	return nil
}

func (s store) deleteParent(ctx context.Context, role, parent string) error {
	res := s.conn(ctx).Where("role = ? AND parent = ? AND built_in = ?", role, parent, false).Delete(&parentRow{})
	if res.Error != nil {
		return fmt.Errorf("authz: delete role parent: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("role %s parent %s: %w", role, parent, ErrNotFound)
	}
	return nil
}

func (s store) deleteCustomParents(ctx context.Context) error {
	if err := s.conn(ctx).Where("built_in = ?", false).Delete(&parentRow{}).Error; err != nil {
		return fmt.Errorf("authz: delete role parents: %w", err)
	}
	return nil
}

package identity

import (
	"context"
	"errors"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/database"
)

// userRow is the identity_users row; only this package touches it.
type userRow struct {
	ID              string `gorm:"primaryKey"`
	Email           string
	EmailNormalized string
	Username        *string
	Name            string
	NameNormalized  string
	Status          string
	EmailVerified   bool
	Machine         bool
	PasswordHash    string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastSignInAt    *time.Time
}

func (userRow) TableName() string { return "identity_users" }

type roleRow struct {
	Name        string `gorm:"primaryKey"`
	Description string
	BuiltIn     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (roleRow) TableName() string { return "identity_roles" }

type userRoleRow struct {
	UserID    string `gorm:"primaryKey"`
	RoleName  string `gorm:"primaryKey"`
	CreatedAt time.Time
}

func (userRoleRow) TableName() string { return "identity_user_roles" }

type setupTokenRow struct {
	TokenHash string `gorm:"primaryKey"`
	ExpiresAt time.Time
	CreatedAt time.Time
}

func (setupTokenRow) TableName() string { return "identity_setup_tokens" }

func (r userRow) toUser(roles []string) User {
	u := User{
		ID: r.ID, Email: r.Email, Name: r.Name, Status: r.Status,
		EmailVerified: r.EmailVerified, Machine: r.Machine, HasPassword: r.PasswordHash != "",
		Roles: roles, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	if r.Username != nil {
		u.Username = *r.Username
	}
	if r.LastSignInAt != nil {
		t := r.LastSignInAt.UTC()
		u.LastSignInAt = &t
	}
	return u
}

func (r roleRow) toRole() Role {
	return Role{Name: r.Name, Description: r.Description, BuiltIn: r.BuiltIn}
}

// store is the module's only access to its tables. Every method takes its
// handle from database.Conn so it joins the transaction in ctx.
type store struct {
	db      *gorm.DB
	dialect database.Dialect
}

func (s *store) conn(ctx context.Context) *gorm.DB { return database.Conn(ctx, s.db) }

func notFound(err, sentinel error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sentinel
	}
	return err
}

func (s *store) userBy(ctx context.Context, column, value string) (userRow, error) {
	var row userRow
	err := s.conn(ctx).Where(column+" = ?", value).Take(&row).Error
	return row, notFound(err, ErrNotFound)
}

// rolesOf returns the sorted role names of each user id.
func (s *store) rolesOf(ctx context.Context, ids ...string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []userRoleRow
	if err := s.conn(ctx).Where("user_id IN ?", ids).Order("role_name").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.RoleName)
	}
	return out, nil
}

func (s *store) withRoles(ctx context.Context, row userRow) (User, error) {
	roles, err := s.rolesOf(ctx, row.ID)
	if err != nil {
		return User{}, err
	}
	return row.toUser(roles[row.ID]), nil
}

func (s *store) exists(ctx context.Context, model any, where string, args ...any) (bool, error) {
	var n int64
	err := s.conn(ctx).Model(model).Where(where, args...).Limit(1).Count(&n).Error
	return n > 0, err
}

func (s *store) role(ctx context.Context, name string) (roleRow, error) {
	var row roleRow
	err := s.conn(ctx).Where("name = ?", name).Take(&row).Error
	return row, notFound(err, ErrRoleNotFound)
}

// lockAdmins serializes every change that could leave no active admin. On
// PostgreSQL it locks the admin role's row until the transaction ends, so a
// concurrent disable/delete/unassign waits and then counts afresh (READ
// COMMITTED takes a new snapshot per statement). On SQLite the write
// transaction is already exclusive (_txlock=immediate).
func (s *store) lockAdmins(ctx context.Context) error {
	if !database.InTx(ctx) {
		return errors.New("identity: lockAdmins outside a transaction")
	}
	if s.dialect != database.Postgres {
		return nil
	}
	var row roleRow
	return s.conn(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("name = ?", RoleAdmin).Take(&row).Error
}

// activeAdmins counts active users holding the admin role, leaving out
// exceptID ("" for none).
func (s *store) activeAdmins(ctx context.Context, exceptID string) (int64, error) {
	q := s.conn(ctx).Table("identity_users AS u").
		Joins("JOIN identity_user_roles AS r ON r.user_id = u.id").
		Where("r.role_name = ? AND u.status = ?", RoleAdmin, StatusActive)
	if exceptID != "" {
		q = q.Where("u.id <> ?", exceptID)
	}
	var n int64
	err := q.Count(&n).Error
	return n, err
}

func (s *store) listRoles(ctx context.Context) ([]Role, error) {
	var rows []roleRow
	if err := s.conn(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Role, len(rows))
	for i, r := range rows {
		out[i] = r.toRole()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// membersOf returns the ids of the users holding role name.
func (s *store) membersOf(ctx context.Context, name string) ([]string, error) {
	var ids []string
	err := s.conn(ctx).Model(&userRoleRow{}).Where("role_name = ?", name).Pluck("user_id", &ids).Error
	return ids, err
}

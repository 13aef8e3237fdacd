package identity

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
)

// User statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Built-in roles, created by the first migration; they cannot be deleted.
const (
	RoleAdmin     = "admin"      // everything
	RoleUserAdmin = "user-admin" // users, roles and role assignments
	RoleAuditor   = "auditor"    // reads everything, changes nothing
)

// User is a person or a service account (Machine). It carries no secret: the
// password hash never leaves the store.
type User struct {
	ID       string
	Email    string
	Username string // "" when none
	Name     string
	Status   string // StatusActive or StatusDisabled

	EmailVerified bool
	// Machine marks a service account: it never has a password and signs in
	// with API keys or client credentials only.
	Machine     bool
	HasPassword bool
	Roles       []string // sorted

	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastSignInAt *time.Time
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.Status == StatusActive }

// HasRole reports whether the user holds role name.
func (u User) HasRole(name string) bool {
	for _, r := range u.Roles {
		if r == name {
			return true
		}
	}
	return false
}

// Role is a named set of permissions; what it allows is the authz module's
// business. Built-in roles cannot be deleted.
type Role struct {
	Name        string
	Description string
	BuiltIn     bool
}

// NewUser is the input of CreateUser. Password may be empty: the user then
// signs in once one is set, or with a passkey. Machine users must not have
// one.
type NewUser struct {
	Email         string
	Name          string
	Username      string
	Password      string
	Roles         []string
	Machine       bool
	EmailVerified bool
}

// UserUpdate changes the non-nil fields of a user. Changing the email resets
// EmailVerified unless EmailVerified is given too. Username "" removes it.
type UserUpdate struct {
	Email         *string
	Name          *string
	Username      *string
	Status        *string
	EmailVerified *bool
}

// RoleUpdate changes the non-nil fields of a role.
type RoleUpdate struct {
	Description *string
}

// UserFilter selects users for ListUsers; zero fields match everything.
type UserFilter struct {
	// Query matches a prefix of the email or of the display name,
	// case-insensitively.
	Query  string
	Role   string
	Status string
	// Machine keeps only service accounts.
	Machine bool
	// PageSize is 1..page.MaxSize; 0 means page.DefaultSize.
	PageSize int
	// PageToken is the opaque NextPageToken of the previous page.
	PageToken string
	// Sort is SortCreated (""), SortEmail or SortName: each the order of
	// one index, so a page is one indexed statement.
	Sort string
}

// Orders of ListUsers.
const (
	SortCreated = "created" // by id (UUIDv7, so by creation time); the default
	SortEmail   = "email"   // by normalized email
	SortName    = "name"    // by normalized name, then id
)

// UserPage is one page of users, sorted as UserFilter.Sort says.
type UserPage = page.Page[User]

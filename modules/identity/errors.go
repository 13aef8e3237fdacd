package identity

import (
	"errors"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// Sentinel errors. Service methods wrap them with context
// (fmt.Errorf("identity: ...: %w", err)); callers test with errors.Is.
var (
	// ErrNotFound: no user (or role, where no more specific error applies)
	// with that id, email or name.
	ErrNotFound = errors.New("identity: not found")
	// ErrRoleNotFound: the named role does not exist.
	ErrRoleNotFound = errors.New("identity: role not found")
	// ErrInvalidCredentials: unknown login, wrong password or a user without a
	// password. Deliberately one error so a caller cannot tell which.
	ErrInvalidCredentials = errors.New("identity: invalid credentials")
	// ErrUserDisabled is returned by VerifyPassword only after the password
	// was proven correct, so it reveals nothing to someone guessing.
	ErrUserDisabled = errors.New("identity: user is disabled")
	// ErrEmailTaken: another user has this email (compared case-insensitively).
	ErrEmailTaken = errors.New("identity: email is already in use")
	// ErrUsernameTaken: another user has this username.
	ErrUsernameTaken = errors.New("identity: username is already in use")
	// ErrRoleExists: a role with this name exists.
	ErrRoleExists = errors.New("identity: role already exists")
	// ErrBuiltInRole: built-in roles cannot be deleted or renamed.
	ErrBuiltInRole = errors.New("identity: built-in roles cannot be deleted")
	// ErrLastAdmin: the change would leave no active user with the admin role.
	ErrLastAdmin = errors.New("identity: the last active admin cannot be disabled, deleted or lose the admin role")
	// ErrMachinePassword: service accounts (machine users) have no password.
	ErrMachinePassword = errors.New("identity: service accounts cannot have a password")
	// ErrSetupToken: the setup token is unknown, used or expired.
	ErrSetupToken = errors.New("identity: the setup link is invalid, expired or already used")
	// ErrSetupDone: an active admin already exists, so first-start setup is over.
	ErrSetupDone = errors.New("identity: setup is already complete")
)

func invalid(field, msg string) error { return &validation.Error{Field: field, Message: msg} }

package authz

import (
	"errors"
	"fmt"
)

// Sentinels returned (wrapped) by the Service.
var (
	// ErrNotFound: no policy or inheritance edge with that key.
	ErrNotFound = errors.New("authz: not found")
	// ErrConflict: the rule or edge already exists, or an edge would make a
	// cycle.
	ErrConflict = errors.New("authz: conflict")
	// ErrBuiltIn: built-in rules cannot be changed through the API.
	ErrBuiltIn = errors.New("authz: built-in rule")
	// ErrTooLarge: a batch or import exceeds the limits.
	ErrTooLarge = errors.New("authz: too many rules")
	// ErrCondition: a rule's condition failed to evaluate for this request
	// (for example it reads an attribute the request does not carry). It is
	// never turned into a silent "deny": callers map it to a 4xx.
	ErrCondition = errors.New("authz: condition evaluation failed")
	// ErrUnknownSubject: the subject of a decision request does not exist.
	ErrUnknownSubject = errors.New("authz: unknown subject")
)

// ValidationError names the field of a rule that is invalid. Parse is true
// when the input could not be parsed at all (a condition expression or a CSV
// line): the API answers 400; otherwise 422.
type ValidationError struct {
	Field  string
	Reason string
	Parse  bool
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("authz: invalid %s: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

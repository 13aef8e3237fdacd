package authz

import (
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/validation"
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

func invalid(field, format string, args ...any) error {
	return &validation.Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Package validation holds the one error shape every module uses for input
// that fails validation: which field is wrong and why, in the API's JSON
// names. The HTTP layer turns it into a 422 (400 when the input could not be
// parsed at all) whose body names the field (CONTRACT.md "Errors"); pages and
// the CLI show Error() as a readable sentence.
package validation

import (
	"errors"
	"fmt"
)

// Error names the input field that is wrong. Field is the JSON name in the
// request body ("email", "roles") or a location with its part
// ("query.page_token", "path.name"). Parse is true when the input could not
// be parsed at all (a condition expression, a CSV line): 400 instead of 422.
type Error struct {
	Field   string
	Message string
	Parse   bool
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Field returns an *Error for field with a formatted message.
func Field(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var ve *Error
	ok := errors.As(err, &ve)
	return ve, ok
}

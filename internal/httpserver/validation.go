package httpserver

import (
	"errors"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"
)

// InputProblem turns the errors every module shares for bad input — a
// *validation.Error and the page errors — into a problem that names the
// field: 422, or 400 when the input could not be parsed. ok is false for any
// other error, which the module maps itself.
func InputProblem(err error) (problem error, ok bool) {
	switch {
	case errors.Is(err, page.ErrBadToken):
		// A token we did not issue cannot be parsed: 400, like other malformed input.
		return huma.Error400BadRequest(err.Error(), &huma.ErrorDetail{Location: "query.page_token", Message: err.Error()}), true
	case errors.Is(err, page.ErrBadSize):
		return huma.Error422UnprocessableEntity(err.Error(), &huma.ErrorDetail{Location: "query.page_size", Message: err.Error()}), true
	}
	ve, ok := validation.As(err)
	if !ok {
		return nil, false
	}
	loc := ve.Field
	if !strings.HasPrefix(loc, "query.") && !strings.HasPrefix(loc, "path.") && !strings.HasPrefix(loc, "body.") {
		loc = "body." + loc
	}
	detail := &huma.ErrorDetail{Location: loc, Message: ve.Message}
	if ve.Parse {
		return huma.Error400BadRequest("invalid "+ve.Field+": "+ve.Message, detail), true
	}
	return huma.Error422UnprocessableEntity("validation failed: "+ve.Field+" "+ve.Message, detail), true
}

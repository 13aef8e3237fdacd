package web

import (
	"bytes"
	"fmt"

	"github.com/labstack/echo/v4"
)

// Fragment renders only the template block of page name, without the
// layout: the part of a page an htmx request swaps in (HX-Request). Like a
// page, it is rendered to a buffer first and never cached.
func (r *Renderer) Fragment(c echo.Context, status int, name, block string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("web: render %s of %s: %w", block, name, err)
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	_, err := buf.WriteTo(c.Response())
	return err
}

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ErrorView is the data of errors/error.html.
type ErrorView struct {
	Page
	Message string
}

// RenderError renders the HTML error page (httpserver.ErrorPageRenderer).
func (r *Renderer) RenderError(c echo.Context, status int, message string) error {
	v := ErrorView{Page: Page{Title: http.StatusText(status)}, Message: message}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return r.Render(c.Response(), "errors/error.html", v)
}

// HTML renders page name with status into the echo response.
func (r *Renderer) HTML(c echo.Context, status int, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return r.Render(c.Response(), name, data)
}

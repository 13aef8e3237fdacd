package admin

import "github.com/labstack/echo/v4"

// mountRest mounts the sections beyond users.
func (m *Module) mountRest(g *echo.Group, sensitive echo.MiddlewareFunc) {
}

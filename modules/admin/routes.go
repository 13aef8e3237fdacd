package admin

import "github.com/labstack/echo/v4"

// mountRest mounts the sections beyond users; a section whose service is
// not wired is left out.
func (m *Module) mountRest(g *echo.Group, sensitive echo.MiddlewareFunc) {
	g.GET("/overview", m.getOverview)
	m.mountRoles(g, sensitive)
	m.mountClients(g, sensitive)
	m.mountAPIKeys(g, sensitive)
	m.mountServiceAccounts(g)
	m.mountPolicies(g, sensitive)
	m.mountSigningKeys(g, sensitive)
	m.mountAudit(g)
}

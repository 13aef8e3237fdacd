package admin

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

const tmplOverview = "admin/overview.html"

// Audit actions the sign-in pages record (modules/oidc/signin).
const (
	actionLoginSuccess = "login.success"
	actionLoginFailure = "login.failure"
)

// overviewView is the data of admin/overview.html: the counts the user may
// read and the sign-in charts when they may read the audit log.
type overviewView struct {
	view
	Counts []overviewCount
	Mail   *mailCard
	Charts []chart
}

type overviewCount struct {
	Label, Href string
	N           int64
}

// getOverview is the console's overview (users:read, as the console
// itself). Each number shows only to those who may read its collection
// through the API; the charts need audit-events:read.
func (m *Module) getOverview(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allUsers, "read"); err != nil {
		return m.pageError(c, err)
	}
	v := overviewView{}
	var err error
	if v.view, err = m.newView(c, "Overview", "/admin/overview"); err != nil {
		return m.pageError(c, err)
	}
	counts := []struct {
		label, href string
		count       Counter
		res         principal.Resource
	}{
		{"Users", "/admin/users", m.d.Counts.Users, allUsers},
		{"Active sessions", "", m.d.Counts.Sessions, allUsers},
		{"Clients", "/admin/clients", m.d.Counts.Clients, allClients},
		{"API keys", "/admin/api-keys", m.d.Counts.APIKeys, principal.Resource{Type: "api-keys", ID: "*"}},
	}
	for _, k := range counts {
		if k.count == nil {
			continue
		}
		if ok, err := m.can(c, k.res, "read"); err != nil || !ok {
			if err != nil {
				return m.pageError(c, err)
			}
			continue
		}
		n, err := k.count(ctx)
		if err != nil {
			return m.pageError(c, err)
		}
		if k.href != "" && !m.navHas(v.view, k.href) {
			k.href = ""
		}
		v.Counts = append(v.Counts, overviewCount{Label: k.label, Href: k.href, N: n})
	}
	if v.Mail, err = m.mailStats(c); err != nil {
		return m.pageError(c, err)
	}
	if v.Charts, err = m.signInCharts(c); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplOverview, v)
}

// navHas reports whether the navigation links to href (a count links to
// its section only where the section exists).
func (m *Module) navHas(v view, href string) bool {
	for _, l := range v.Nav {
		if l.Href == href {
			return true
		}
	}
	return false
}

// signInCharts draws sign-ins and failed sign-ins per hour over the last
// 24 hours and per day over the last 30 days (UTC), when the user may read
// the audit log.
func (m *Module) signInCharts(c echo.Context) ([]chart, error) {
	if m.d.Activity == nil {
		return nil, nil
	}
	if ok, err := m.can(c, principal.Resource{Type: "audit-events", ID: "*"}, "read"); err != nil || !ok {
		return nil, err
	}
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	specs := []struct {
		id, title  string
		axis       string
		start      time.Time
		step       time.Duration
		n          int
		layout     string
		labelEvery int
	}{
		{"chart-24h", "Sign-ins per hour, last 24 hours (UTC)", "hours, UTC", now.Truncate(time.Hour).Add(-23 * time.Hour), time.Hour, 24, "15:04", 3},
		{"chart-30d", "Sign-ins per day, last 30 days (UTC)", "days, UTC", day.AddDate(0, 0, -29), 24 * time.Hour, 30, "Jan 2", 5},
	}
	ctx := c.Request().Context()
	var out []chart
	for _, s := range specs {
		ok, err := m.d.Activity.Counts(ctx, actionLoginSuccess, s.start, s.step, s.n)
		if err != nil {
			return nil, err
		}
		fail, err := m.d.Activity.Counts(ctx, actionLoginFailure, s.start, s.step, s.n)
		if err != nil {
			return nil, err
		}
		out = append(out, newChart(s.id, s.title, s.axis, s.start, s.step, ok, fail, s.layout, s.labelEvery))
	}
	return out, nil
}

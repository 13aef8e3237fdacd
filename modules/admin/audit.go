package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
)

const tmplAudit = "admin/audit.html"

// auditEvents is what reading the log requires, on the page, its export and
// the API (GET /api/v1/audit-events).
var auditEvents = principal.Resource{Type: "audit-events", ID: "*"}

// auditView is the data of admin/audit.html: the filters, one page of
// events (newest first), the next page and the export links.
type auditView struct {
	view
	Actor, Action, Target, Since, Until string
	Events                              []auditRow
	NextHref, ExportCSV, ExportJSONL    string
}

// auditRow is one event.
type auditRow struct {
	Time, Actor, Action, Target, Outcome, IP string
}

// mountAudit mounts the audit log and its export when the log is wired.
func (m *Module) mountAudit(g *echo.Group) {
	if m.d.Audit == nil {
		return
	}
	g.GET("/audit", m.getAudit)
	g.GET("/audit/export", m.getAuditExport)
}

// auditQuery reads the filter form: the API's parameters, with the times
// of datetime-local inputs (UTC, no offset) accepted as well.
func auditQuery(c echo.Context) audit.Query {
	p := func(name string) string { return strings.TrimSpace(c.QueryParam(name)) }
	return audit.Query{Actor: p("actor"), Action: p("action"), Target: p("target"),
		Since: p("since"), Until: p("until"), ZonelessUTC: true}
}

// auditParams is q as it was typed, as URL parameters for the next page and
// the export links; empty filters are left out.
func auditParams(q audit.Query) url.Values {
	v := url.Values{}
	for name, val := range map[string]string{"actor": q.Actor, "action": q.Action, "target": q.Target, "since": q.Since, "until": q.Until} {
		if val != "" {
			v.Set(name, val)
		}
	}
	return v
}

// getAudit lists events (audit-events:read, as GET /api/v1/audit-events).
// A filter it cannot read answers 400 with the form and a sentence naming
// the field.
func (m *Module) getAudit(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, auditEvents, "read"); err != nil {
		return m.pageError(c, err)
	}
	q := auditQuery(c)
	v := auditView{Actor: q.Actor, Action: q.Action, Target: q.Target, Since: q.Since, Until: q.Until}
	var err error
	if v.view, err = m.newView(c, "Audit log", "/admin/audit"); err != nil {
		return m.pageError(c, err)
	}
	var list audit.Page
	f, err := q.Filter()
	if err == nil {
		f.PageToken = c.QueryParam("page_token")
		list, err = m.d.Audit.List(ctx, f)
	}
	if msg, ok := filterError(err); ok {
		v.Error = msg
		return m.render(c, http.StatusBadRequest, tmplAudit, v)
	}
	if err != nil {
		return m.pageError(c, err)
	}
	// A datetime-local input shows only its own form of a time.
	if !f.Since.IsZero() {
		v.Since = f.Since.Format(localInput)
	}
	if !f.Until.IsZero() {
		v.Until = f.Until.Format(localInput)
	}
	for _, e := range list.Items {
		v.Events = append(v.Events, auditRow{
			Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: ref(e.Actor), Action: e.Action,
			Target: ref(e.Target), Outcome: e.Outcome, IP: e.IP,
		})
	}
	params := auditParams(q)
	if list.NextPageToken != "" {
		next := auditParams(q)
		next.Set("page_token", list.NextPageToken)
		v.NextHref = "/admin/audit?" + next.Encode()
	}
	params.Set("format", string(audit.CSV))
	v.ExportCSV = "/admin/audit/export?" + params.Encode()
	params.Set("format", string(audit.JSONLines))
	v.ExportJSONL = "/admin/audit/export?" + params.Encode()
	return m.render(c, http.StatusOK, tmplAudit, v)
}

// localInput is the value form of a datetime-local input with seconds.
const localInput = "2006-01-02T15:04:05"

// auditLabels are the page's labels of the filter fields.
var auditLabels = map[string]string{
	"query.actor": "Actor", "query.action": "Action", "query.target": "Target",
	"query.since": "Since", "query.until": "Until", "query.format": "The export format",
}

// filterError is the readable sentence for a filter the log refused: a
// field error named by the field's label, or a page link it did not issue.
func filterError(err error) (string, bool) {
	if ve, ok := validation.As(err); ok {
		label := auditLabels[ve.Field]
		if label == "" {
			label = ve.Field
		}
		return label + " " + ve.Message + ".", true
	}
	if errors.Is(err, page.ErrBadToken) || errors.Is(err, page.ErrBadSize) {
		return "This page link is not one the audit log made; start again from the first page.", true
	}
	return "", false
}

func ref(r audit.Ref) string {
	switch {
	case r.Type == "" && r.ID == "":
		return ""
	case r.ID == "":
		return r.Type
	}
	return r.Type + ":" + r.ID
}

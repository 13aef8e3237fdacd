package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
)

const tmplAudit = "admin/audit.html"

// auditView is the data of admin/audit.html: the filters, one page of
// events (newest first) and the link to the next.
type auditView struct {
	view
	Actor, Action string
	Events        []auditRow
	NextHref      string
}

// auditRow is one event.
type auditRow struct {
	Time, Actor, Action, Target, Outcome, IP string
}

// actorTypes are the principal kinds the audit log writes; "user:<id>"
// filters by type and id, as the API's actor parameter.
var actorTypes = []string{"user", "service", "client", "system", "anonymous"}

// getAudit lists events (audit-events:read, as GET /api/v1/audit-events).
func (m *Module) getAudit(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, principal.Resource{Type: "audit-events", ID: "*"}, "read"); err != nil {
		return m.pageError(c, err)
	}
	v := auditView{Actor: strings.TrimSpace(c.QueryParam("actor")), Action: strings.TrimSpace(c.QueryParam("action"))}
	var err error
	if v.view, err = m.newView(c, "Audit log", "/admin/audit"); err != nil {
		return m.pageError(c, err)
	}
	f := audit.Filter{ActorID: v.Actor, Action: v.Action, PageToken: c.QueryParam("page_token")}
	if typ, id, ok := strings.Cut(v.Actor, ":"); ok && slices.Contains(actorTypes, typ) && id != "" {
		f.ActorType, f.ActorID = typ, id
	}
	list, err := m.d.Audit.List(ctx, f)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, e := range list.Items {
		v.Events = append(v.Events, auditRow{
			Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: ref(e.Actor), Action: e.Action,
			Target: ref(e.Target), Outcome: e.Outcome, IP: e.IP,
		})
	}
	if list.NextPageToken != "" {
		q := url.Values{"page_token": {list.NextPageToken}}
		if v.Actor != "" {
			q.Set("actor", v.Actor)
		}
		if v.Action != "" {
			q.Set("action", v.Action)
		}
		v.NextHref = "/admin/audit?" + q.Encode()
	}
	return m.render(c, http.StatusOK, tmplAudit, v)
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

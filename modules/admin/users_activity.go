package admin

import (
	"cmp"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// recentEvents is how many audit events the user's page shows.
const recentEvents = 20

// userActivity is what the user's page shows below the profile and roles:
// their sessions, passkeys, API keys and recent audit events. A section
// whose service is missing (or, for keys and events, which the caller may
// not read) is not shown.
type userActivity struct {
	ShowSessions, ShowPasskeys, ShowKeys, ShowEvents bool
	Sessions                                         []userSessionRow
	Passkeys                                         []userPasskeyRow
	Keys                                             []keyRow
	Events                                           []auditRow
	// CanManage: users:update on the user and no escalation, so "End
	// session" and "Remove" are offered (the posts check it again).
	CanManage                 bool
	AuditHref, AuditAboutHref string
}

// userSessionRow is one live browser session.
type userSessionRow struct {
	ID, Created, LastSeen, Expires, IP, UserAgent, Methods string
}

// userPasskeyRow is one passkey.
type userPasskeyRow struct {
	ID, Name, Created, LastUsed string
}

// activity gathers the four sections of u's page. canUpdate is users:update
// on u; canReadKeys is api-keys:read on u's keys.
func (m *Module) activity(c echo.Context, u identity.User, canUpdate, canReadKeys bool) (userActivity, error) {
	var a userActivity
	var err error
	if canUpdate {
		if a.CanManage, err = m.mayChange(c, u.ID); err != nil {
			return a, err
		}
	}
	if err := m.sessionsOf(c, u.ID, &a); err != nil {
		return a, err
	}
	if err := m.passkeysOf(c, u.ID, &a); err != nil {
		return a, err
	}
	if canReadKeys {
		if err := m.keysOf(c, u.ID, &a); err != nil {
			return a, err
		}
	}
	return a, m.eventsOf(c, u.ID, &a)
}

// mayChange is guardTarget as a question: may the caller change user id
// without gaining rights (themselves, or a user whose rights they hold)?
func (m *Module) mayChange(c echo.Context, id string) (bool, error) {
	p := signedIn(c)
	if p.IsUser() && p.ID == id {
		return true, nil
	}
	return m.d.Grants.CoversUser(c.Request().Context(), p, id)
}

func (m *Module) sessionsOf(c echo.Context, id string, a *userActivity) error {
	if m.d.Sessions == nil {
		return nil
	}
	a.ShowSessions = true
	list, err := m.d.Sessions.UserSessions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	for _, s := range list {
		a.Sessions = append(a.Sessions, userSessionRow{
			ID: s.ID, Created: s.CreatedAt.UTC().Format(timeFormat), LastSeen: s.LastSeenAt.UTC().Format(timeFormat),
			Expires: s.ExpiresAt.UTC().Format(timeFormat), IP: s.IP, UserAgent: s.UserAgent, Methods: s.Methods,
		})
	}
	return nil
}

func (m *Module) passkeysOf(c echo.Context, id string, a *userActivity) error {
	if m.d.Passkeys == nil {
		return nil
	}
	a.ShowPasskeys = true
	list, err := m.d.Passkeys.List(c.Request().Context(), id)
	if err != nil {
		return err
	}
	for _, k := range list {
		row := userPasskeyRow{ID: k.ID, Name: k.Name, Created: k.CreatedAt.UTC().Format(timeFormat), LastUsed: "never"}
		if k.LastUsedAt != nil {
			row.LastUsed = k.LastUsedAt.UTC().Format(timeFormat)
		}
		a.Passkeys = append(a.Passkeys, row)
	}
	return nil
}

// keysOf lists the user's keys that still work or merely expired; revoked
// ones are on the API keys page.
func (m *Module) keysOf(c echo.Context, id string, a *userActivity) error {
	if m.d.APIKeys == nil {
		return nil
	}
	a.ShowKeys = true
	list, err := m.d.APIKeys.List(c.Request().Context(), apikeys.Filter{UserID: id})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, k := range list.Items {
		row := newKeyRow(k, now)
		if row.CanRevoke, err = m.can(c, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "delete"); err != nil {
			return err
		}
		a.Keys = append(a.Keys, row)
	}
	return nil
}

// eventsOf lists the newest events with the user as actor or as target
// (audit-events:read, as GET /api/v1/audit-events).
func (m *Module) eventsOf(c echo.Context, id string, a *userActivity) error {
	if m.d.Audit == nil {
		return nil
	}
	ok, err := m.can(c, principal.Resource{Type: "audit-events", ID: "*"}, "read")
	if err != nil || !ok {
		return err
	}
	a.ShowEvents = true
	a.AuditHref = "/admin/audit?" + url.Values{"actor": {id}}.Encode()
	a.AuditAboutHref = "/admin/audit?" + url.Values{"target": {"user:" + id}}.Encode()
	ctx := c.Request().Context()
	byUser, err := m.d.Audit.List(ctx, audit.Filter{ActorID: id, PageSize: recentEvents})
	if err != nil {
		return err
	}
	onUser, err := m.d.Audit.List(ctx, audit.Filter{TargetType: "user", TargetID: id, PageSize: recentEvents})
	if err != nil {
		return err
	}
	events := append(byUser.Items, onUser.Items...)
	slices.SortFunc(events, func(x, y audit.Event) int {
		return cmp.Or(y.Time.Compare(x.Time), cmp.Compare(y.ID, x.ID))
	})
	events = slices.CompactFunc(events, func(x, y audit.Event) bool { return x.ID == y.ID })
	for _, e := range events[:min(len(events), recentEvents)] {
		a.Events = append(a.Events, auditRow{
			Time: e.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: ref(e.Actor), Action: e.Action,
			Target: ref(e.Target), Outcome: e.Outcome, IP: e.IP,
		})
	}
	return nil
}

package signin

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/web"
)

// consentView is the data of oidc/consent.html.
type consentView struct {
	web.Page
	AuthRequestID string
	ClientName    string
	Scopes        []consentScopeView
}

// consentScopeView is one requested scope as the user reads it.
type consentScopeView struct {
	Name        string
	Description string
}

// consentScopeText say in plain words what a scope lets the app see.
var consentScopeText = map[string]string{
	"openid":         "Confirm who you are",
	"profile":        "Your name and username",
	"email":          "Your email address",
	"roles":          "Your roles in Gatehouse",
	"offline_access": "Keep access while you are away",
}

// needsConsent reports whether the user must be asked: never for a
// first-party client; always with prompt=consent; otherwise unless a
// remembered decision covers every requested scope.
func (p *Pages) needsConsent(ctx context.Context, req flow.PendingRequest, userID string) (bool, error) {
	if req.FirstParty {
		return false, nil
	}
	if promptHas(req, "consent") {
		return true, nil
	}
	covered, err := p.consents.covers(ctx, userID, req.ClientID, req.Scopes)
	if err != nil {
		return false, err
	}
	return !covered, nil
}

// consentRequest loads the request and the session for the consent page.
// ok is false when the response was already written (expired request, or
// the browser must sign in first).
func (p *Pages) consentRequest(c echo.Context, id string) (flow.PendingRequest, session, bool, error) {
	if id == "" {
		return flow.PendingRequest{}, session{}, false, p.renderBadRequest(c, errExpiredRequest)
	}
	req, err := p.flow.PendingRequest(c.Request().Context(), id)
	if err != nil {
		return flow.PendingRequest{}, session{}, false, p.flowError(c, err)
	}
	sess, ok, err := p.currentSession(c)
	if err != nil {
		return flow.PendingRequest{}, session{}, false, err
	}
	// The consent step must not skip an authentication the request asked
	// for: without a session, or one too old for it, go through /login.
	// (A request without CreatedAt cannot be checked against prompt=login.)
	if !ok || (!req.CreatedAt.IsZero() && p.needsFreshAuth(req, sess)) {
		return flow.PendingRequest{}, session{}, false,
			c.Redirect(http.StatusSeeOther, "/login?authRequestID="+url.QueryEscape(id))
	}
	return req, sess, true, nil
}

// getConsent shows the client and the scopes with "Allow" and "Deny".
func (p *Pages) getConsent(c echo.Context) error {
	req, sess, ok, err := p.consentRequest(c, c.QueryParam("authRequestID"))
	if !ok {
		return err
	}
	need, err := p.needsConsent(c.Request().Context(), req, sess.UserID)
	if err != nil {
		return err
	}
	if !need || p.unmetRequirement(req, sess) != "" {
		return p.afterAuthentication(c, req, sess)
	}
	v := consentView{
		Page:          web.Page{Title: "Allow access?", CSRF: httpserver.CSRFToken(c)},
		AuthRequestID: req.ID,
		ClientName:    req.ClientName,
	}
	if v.ClientName == "" {
		v.ClientName = req.ClientID
	}
	for _, s := range req.Scopes {
		d, ok := consentScopeText[s]
		if !ok {
			d = "Access named “" + s + "”"
		}
		v.Scopes = append(v.Scopes, consentScopeView{Name: s, Description: d})
	}
	return p.render.HTML(c, http.StatusOK, tmplConsent, v)
}

// postConsent records the decision: Allow remembers the scopes and
// completes the request; Deny ends it with access_denied.
func (p *Pages) postConsent(c echo.Context) error {
	req, sess, ok, err := p.consentRequest(c, c.FormValue("authRequestID"))
	if !ok {
		return err
	}
	ctx := c.Request().Context()
	switch strings.ToLower(c.FormValue("decision")) {
	case "allow":
		if msg := p.unmetRequirement(req, sess); msg != "" {
			return p.afterAuthentication(c, req, sess)
		}
		err := database.Transact(ctx, p.db, func(ctx context.Context) error {
			if err := p.consents.grant(ctx, sess.UserID, req.ClientID, req.Scopes); err != nil {
				return err
			}
			return p.audit.Record(ctx, audit.Event{
				Action: "consent.grant", Actor: audit.Ref{Type: "user", ID: sess.UserID},
				Target: audit.Ref{Type: "client", ID: req.ClientID}, Outcome: audit.Success,
				Details: map[string]string{"scopes": strings.Join(req.Scopes, " ")},
			})
		})
		if err != nil {
			return err
		}
		return p.complete(c, req, sess)
	case "deny":
		if err := p.audit.Record(ctx, audit.Event{
			Action: "consent.deny", Actor: audit.Ref{Type: "user", ID: sess.UserID},
			Target: audit.Ref{Type: "client", ID: req.ClientID}, Outcome: audit.Denied,
		}); err != nil {
			return err
		}
		return p.failAndRedirect(c, req.ID, "access_denied", "the user denied access")
	default:
		return p.renderBadRequest(c, "Choose “Allow” or “Deny”.")
	}
}

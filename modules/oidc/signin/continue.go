package signin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/web"
)

// How an authenticated browser continues an authorization request: the
// request's authentication requirements (prompt, max_age, acr_values), then
// consent, then completion through the provider (authFlow).

// afterAuthentication continues an authorization request for an
// authenticated session: extra requirements (acr_values), then consent,
// then completion and the redirect back to the client.
func (p *Pages) afterAuthentication(c echo.Context, req flow.PendingRequest, sess session) error {
	ctx := c.Request().Context()
	if msg := p.unmetRequirement(req, sess); msg != "" {
		// A user with a passkey proves it on /login (step-up); one without
		// is told so, and the app gets the error with its state.
		if has, err := p.userHasPasskey(c, sess.UserID); err != nil {
			return err
		} else if has {
			return c.Redirect(http.StatusSeeOther, "/login?authRequestID="+url.QueryEscape(req.ID))
		}
		redirect, err := p.flow.FailRequest(ctx, req.ID, "unmet_authentication_requirements", "a passkey is required")
		if err != nil {
			return p.flowError(c, err)
		}
		return p.render.HTML(c, http.StatusOK, tmplUnmet, unmetView{
			Page: web.Page{Title: "A passkey is required"}, Message: msg, ContinueURL: redirect,
		})
	}
	need, err := p.needsConsent(ctx, req, sess.UserID)
	if err != nil {
		return err
	}
	if need {
		if promptHas(req, "none") {
			return p.failAndRedirect(c, req.ID, "consent_required", "the user has not consented")
		}
		return c.Redirect(http.StatusSeeOther, "/consent?authRequestID="+url.QueryEscape(req.ID))
	}
	return p.complete(c, req, sess)
}

// complete finishes the request and sends the browser back to the client.
func (p *Pages) complete(c echo.Context, req flow.PendingRequest, sess session) error {
	redirect, err := p.flow.CompleteRequest(c.Request().Context(), req.ID, sess.authentication())
	if err != nil {
		return p.flowError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, redirect)
}

// failAndRedirect ends the request with an OAuth error and sends the
// browser to the client's redirect_uri with it.
func (p *Pages) failAndRedirect(c echo.Context, id, code, description string) error {
	redirect, err := p.flow.FailRequest(c.Request().Context(), id, code, description)
	if err != nil {
		return p.flowError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, redirect)
}

// flowError maps the provider's errors to pages: an unknown request is a
// readable 400, anything else a server error.
func (p *Pages) flowError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, flow.ErrUnknownAuthRequest):
		return p.renderBadRequest(c, errExpiredRequest)
	case errors.Is(err, flow.ErrOtherBrowser):
		return p.renderBadRequest(c, errOtherBrowser)
	}
	return err
}

// needsFreshAuth reports whether the session cannot serve req without the
// user authenticating again: prompt=login (or select_account), or a max_age
// the session's auth_time exceeds (OIDC Core 1.0 §3.1.2.1). A session that
// authenticated after the request began satisfies both.
func (p *Pages) needsFreshAuth(req flow.PendingRequest, sess session) bool {
	if !req.CreatedAt.IsZero() && !sess.AuthTime.Before(req.CreatedAt) {
		return false
	}
	if promptHas(req, "login") || promptHas(req, "select_account") {
		return true
	}
	if req.MaxAge != nil && p.now().Sub(sess.AuthTime) > *req.MaxAge {
		return true
	}
	return false
}

// unmetRequirement returns a message when the session does not meet the
// request's authentication requirements, else "".
//
// acr_values=phr asks for a passkey proven in this sign-in (step-up): a
// session whose passkey was proven after the request began meets it (a
// passkey proven earlier does not, even with a live session). Callers offer
// "Use passkey" on /login to a user who has one, and fail the request for
// one who has none.
func (p *Pages) unmetRequirement(req flow.PendingRequest, sess session) string {
	if acrNeedsPasskey(req) && !p.passkeyProvenFor(req, sess) {
		return msgNeedsPasskey
	}
	return ""
}

// passkeyProvenFor reports whether a passkey was proven for this request:
// after it began (a later password sign-in moves auth_time but not
// PasskeyAt, so it cannot pass for a passkey).
func (p *Pages) passkeyProvenFor(req flow.PendingRequest, sess session) bool {
	return sess.hasMethod(flow.AMRHardware) && !req.CreatedAt.IsZero() && !sess.PasskeyAt.IsZero() &&
		!sess.PasskeyAt.Before(req.CreatedAt.Truncate(time.Microsecond)) // sessions store microseconds
}

// promptHas reports whether the request carries a prompt value.
func promptHas(r flow.PendingRequest, v string) bool { return slices.Contains(r.Prompt, v) }

// acrNeedsPasskey: acr_values lists phr and not the weaker pwd.
func acrNeedsPasskey(r flow.PendingRequest) bool {
	return slices.Contains(r.ACRValues, flow.ACRPhishingResistant) && !slices.Contains(r.ACRValues, flow.ACRPassword)
}

package authz

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// OpenID AuthZEN Authorization API 1.0: the Policy Decision Point side.
//
// Requests are JSON; the decision is always HTTP 200 with {"decision":
// bool} (a denial is not an HTTP error). HTTP errors are for the request
// itself: 400 malformed, 401 (with WWW-Authenticate) without a valid bearer
// credential, 403 when the caller may not ask, 413 too large. The
// X-Request-ID a PEP sends is echoed in the response.

const (
	// MaxEvaluations bounds one /access/v1/evaluations batch.
	MaxEvaluations = 200
	maxEvalBody    = 256 << 10
	maxBatchBody   = 1 << 20
	maxFieldLen    = 512
)

// Evaluations semantics (AuthZEN §7.1.2).
const (
	ExecuteAll          = "execute_all"
	DenyOnFirstDeny     = "deny_on_first_deny"
	PermitOnFirstPermit = "permit_on_first_permit"
)

// mountAuthZEN: the metadata is public; the decision endpoints are on the
// bearer-protected group, so the caller is authenticated before they run.
func (m *Module) mountAuthZEN(public *echo.Group, bearer *module.BearerGroup) {
	public.GET("/.well-known/authzen-configuration", m.authzenMetadata)
	bearer.POST("/access/v1/evaluation", m.authzenEvaluation)
	bearer.POST("/access/v1/evaluations", m.authzenEvaluations)
	bearer.POST("/access/v1/search/action", m.authzenActionSearch)
}

// authzenMetadata serves the PDP metadata (AuthZEN §9).
func (m *Module) authzenMetadata(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, map[string]any{
		"policy_decision_point":       m.issuer,
		"access_evaluation_endpoint":  m.issuer + "/access/v1/evaluation",
		"access_evaluations_endpoint": m.issuer + "/access/v1/evaluations",
		"search_action_endpoint":      m.issuer + "/access/v1/search/action",
	})
}

// mayEvaluate checks that the authenticated caller may ask for decisions,
// or writes 403 and returns false.
func (m *Module) mayEvaluate(c echo.Context) (bool, error) {
	ctx := c.Request().Context()
	p, _ := principal.From(ctx)
	allowed, err := m.svc.Can(ctx, p, principal.Resource{Type: "authzen", ID: "decisions"}, "evaluate")
	if err != nil || allowed {
		return allowed, err
	}
	return false, httpserver.WriteProblem(c, http.StatusForbidden, "this credential may not ask for authorization decisions (needs action evaluate on authzen:decisions)")
}

func readBody(c echo.Context, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read the request body")
	}
	if int64(len(b)) > limit {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return b, nil
}

func echoRequestID(c echo.Context) {
	if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" {
		c.Response().Header().Set(echo.HeaderXRequestID, id)
	}
}

// acceptRequest does what every AuthZEN call does first: echo the
// X-Request-ID, check the caller may ask, refuse a body that is not JSON and
// read it up to limit. When ok is false the response is already decided:
// return err as is.
func (m *Module) acceptRequest(c echo.Context, limit int64) (body []byte, ok bool, err error) {
	echoRequestID(c)
	if ok, err := m.mayEvaluate(c); !ok {
		return nil, false, err
	}
	// AuthZEN Authorization API 1.0 §10.1 (certification case 2.4.3):
	// requests are application/json; parameters such as charset are fine.
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return nil, false, httpserver.WriteProblem(c, http.StatusBadRequest, "the request body must be application/json")
	}
	body, err = readBody(c, limit)
	if err != nil {
		return nil, false, err
	}
	return body, true, nil
}

// authzenEvaluation answers one access evaluation (AuthZEN §6).
func (m *Module) authzenEvaluation(c echo.Context) error {
	body, ok, err := m.acceptRequest(c, maxEvalBody)
	if !ok {
		return err
	}
	req, err := DecodeEvaluation(body)
	if err != nil {
		return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
	}
	d, err := m.svc.Evaluate(c.Request().Context(), req)
	if errors.Is(err, ErrCondition) {
		return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, decisionJSON(d))
}

func decisionJSON(d Decision) azDecision {
	ctx := map[string]any{"reason_admin": map[string]string{"en": d.Reason}}
	if d.RuleID != "" {
		ctx["rule_id"] = d.RuleID
	}
	return azDecision{Decision: d.Allowed, Context: ctx}
}

func errorDecision(status int, msg string) azDecision {
	return azDecision{Decision: false, Context: map[string]any{"error": map[string]any{"status": status, "message": msg}}}
}

// authzenEvaluations answers a batch (AuthZEN §7): top-level subject,
// action, resource and context are defaults for every item; an item that
// is malformed or whose condition fails gets decision false with an
// "error" in its context, the others are still decided.
func (m *Module) authzenEvaluations(c echo.Context) error {
	body, ok, err := m.acceptRequest(c, maxBatchBody)
	if !ok {
		return err
	}
	batch, err := DecodeEvaluations(body)
	var tm *tooMany
	if errors.As(err, &tm) {
		return httpserver.WriteProblem(c, http.StatusRequestEntityTooLarge, tm.Error())
	}
	if err != nil {
		return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	if batch.Single {
		d, err := m.svc.Evaluate(ctx, batch.Items[0].Request)
		if errors.Is(err, ErrCondition) {
			return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, decisionJSON(d))
	}
	out := make([]azDecision, 0, len(batch.Items))
	for _, it := range batch.Items {
		var res azDecision
		if it.Err != nil {
			res = errorDecision(http.StatusBadRequest, it.Err.Error())
		} else {
			d, err := m.svc.Evaluate(ctx, it.Request)
			switch {
			case errors.Is(err, ErrCondition):
				res = errorDecision(http.StatusBadRequest, err.Error())
			case err != nil:
				return err
			default:
				res = decisionJSON(d)
			}
		}
		out = append(out, res)
		if (batch.Semantic == DenyOnFirstDeny && !res.Decision) || (batch.Semantic == PermitOnFirstPermit && res.Decision) {
			break
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"evaluations": out})
}

// authzenActionSearch lists the actions a subject may perform on a
// resource (AuthZEN §8.6), in one page.
func (m *Module) authzenActionSearch(c echo.Context) error {
	body, ok, err := m.acceptRequest(c, maxEvalBody)
	if !ok {
		return err
	}
	req, err := DecodeActionSearch(body)
	if err != nil {
		return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
	}
	names, err := m.svc.SearchActions(c.Request().Context(), req)
	if errors.Is(err, ErrCondition) {
		return httpserver.WriteProblem(c, http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	results := make([]map[string]string, len(names))
	for i, n := range names {
		results[i] = map[string]string{"name": n}
	}
	return c.JSON(http.StatusOK, map[string]any{"results": results, "page": map[string]string{"next_token": ""}})
}

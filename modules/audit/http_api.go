package audit

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// listInput is GET /audit-events' query. Query.Filter parses it, so that a
// malformed value answers 422 naming the parameter.
type listInput struct {
	Actor  string `query:"actor" maxLength:"256" doc:"Actor id (a user id, client id or \"gatehouse\" for the CLI), or type:id with type user, service, client, system or anonymous."`
	Action string `query:"action" maxLength:"128" doc:"Exact action, e.g. user.create."`
	Target string `query:"target" maxLength:"300" doc:"Target as type:id, or an id alone."`
	Since  string `query:"since" maxLength:"64" doc:"RFC 3339 time; events at or after it."`
	Until  string `query:"until" maxLength:"64" doc:"RFC 3339 time; events at or before it."`
	page.Query
}

// auditEventBody is the contract's JSON form of an event (details are
// internal). Body types carry the module's name: huma names OpenAPI schemas
// after Go types, and names must be unique across modules.
type auditEventBody struct {
	ID        string       `json:"id"`
	Time      time.Time    `json:"time"`
	Actor     auditRefBody `json:"actor"`
	Action    string       `json:"action"`
	Target    auditRefBody `json:"target"`
	Outcome   string       `json:"outcome"`
	IP        string       `json:"ip"`
	UserAgent string       `json:"user_agent"`
}

type auditRefBody struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type listOutput struct {
	Body page.Page[auditEventBody]
}

func registerAPI(api huma.API, svc *Service, authz Authorizer) {
	huma.Register(api, huma.Operation{
		OperationID: "list-audit-events",
		Method:      http.MethodGet,
		Path:        "/audit-events",
		Summary:     "List audit events, newest first",
		Tags:        []string{"Audit"},
	}, func(ctx context.Context, in *listInput) (*listOutput, error) {
		p, _ := principal.From(ctx)
		ok, err := authz.Can(ctx, p, principal.Resource{Type: "audit-events", ID: "*"}, "read")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, huma.Error403Forbidden("reading the audit log requires the audit-events read permission")
		}
		var events Page
		f, err := in.filter()
		if err == nil {
			events, err = svc.List(ctx, f)
		}
		if p, ok := httpserver.InputProblem(err); ok {
			return nil, p
		}
		if err != nil {
			return nil, err
		}
		return &listOutput{Body: page.Map(events, eventBody)}, nil
	})
}

func (in *listInput) filter() (Filter, error) {
	f, err := Query{Actor: in.Actor, Action: in.Action, Target: in.Target, Since: in.Since, Until: in.Until}.Filter()
	f.PageSize, f.PageToken = in.PageSize, in.PageToken
	return f, err
}

// eventBody is the contract's JSON form of e: the API's list item and a
// line of the JSON lines export.
func eventBody(e Event) auditEventBody {
	return auditEventBody{
		ID: e.ID, Time: e.Time, Actor: auditRefBody(e.Actor), Action: e.Action, Target: auditRefBody(e.Target),
		Outcome: e.Outcome, IP: e.IP, UserAgent: e.UserAgent,
	}
}

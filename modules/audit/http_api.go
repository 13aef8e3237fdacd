package audit

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// listInput is GET /audit-events' query. Times are parsed by hand so that a
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
		f, err := in.filter()
		if err != nil {
			return nil, err
		}
		events, err := svc.List(ctx, f)
		if p, ok := httpserver.InputProblem(err); ok {
			return nil, p
		}
		if err != nil {
			return nil, err
		}
		return &listOutput{Body: page.Map(events, func(e Event) auditEventBody {
			return auditEventBody{
				ID: e.ID, Time: e.Time, Actor: auditRefBody(e.Actor), Action: e.Action, Target: auditRefBody(e.Target),
				Outcome: e.Outcome, IP: e.IP, UserAgent: e.UserAgent,
			}
		})}, nil
	})
}

// actorTypes are the principal kinds (and "anonymous") Record writes.
var actorTypes = []string{"user", "service", "client", "system", "anonymous"}

func (in *listInput) filter() (Filter, error) {
	f := Filter{ActorID: in.Actor, Action: in.Action, PageSize: in.PageSize, PageToken: in.PageToken}
	if typ, id, ok := strings.Cut(in.Actor, ":"); ok && slices.Contains(actorTypes, typ) {
		if id == "" {
			return Filter{}, invalidQuery("actor", in.Actor, "actor must be an id or type:id")
		}
		f.ActorType, f.ActorID = typ, id
	}
	if in.Target != "" {
		if typ, id, ok := strings.Cut(in.Target, ":"); ok {
			if typ == "" || id == "" {
				return Filter{}, invalidQuery("target", in.Target, "target must be type:id or an id")
			}
			f.TargetType, f.TargetID = typ, id
		} else {
			f.TargetID = in.Target
		}
	}
	var err error
	if f.Since, err = parseTime("since", in.Since); err != nil {
		return Filter{}, err
	}
	if f.Until, err = parseTime("until", in.Until); err != nil {
		return Filter{}, err
	}
	return f, nil
}

func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalidQuery(name, v, name+" must be an RFC 3339 time such as 2025-01-02T15:04:05Z")
	}
	return t.UTC(), nil
}

func invalidQuery(name, value, msg string) error {
	return huma.Error422UnprocessableEntity(msg, &huma.ErrorDetail{Location: "query." + name, Message: msg, Value: value})
}

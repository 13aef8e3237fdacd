package authz

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// registerAPI mounts the policy API on /api/v1.
func (m *Module) registerAPI(api huma.API) {
	s := m.svc
	tags := []string{"policies"}
	huma.Register(api, huma.Operation{OperationID: "list-policies", Method: http.MethodGet, Path: "/policies",
		Summary: "List policy rules", Tags: tags}, func(ctx context.Context, in *listPoliciesInput) (*listPoliciesOutput, error) {
		if err := m.require(ctx, "policies", "", "read"); err != nil {
			return nil, err
		}
		policies, err := s.ListPolicies(ctx, PolicyFilter{Subject: in.Subject, Resource: in.Resource, PageSize: in.PageSize, PageToken: in.PageToken})
		if err != nil {
			return nil, apiError(err)
		}
		return &listPoliciesOutput{Body: page.Map(policies, toJSON)}, nil
	})
	huma.Register(api, huma.Operation{OperationID: "create-policy", Method: http.MethodPost, Path: "/policies",
		Summary: "Create a policy rule", Tags: tags, DefaultStatus: http.StatusCreated, MaxBodyBytes: 16 << 10},
		func(ctx context.Context, in *createInput) (*policyOutput, error) {
			if err := m.require(ctx, "policies", "", "create"); err != nil {
				return nil, err
			}
			if err := m.noEscalation(ctx, []Rule{in.Body.rule()}, nil, nil); err != nil {
				return nil, err
			}
			p, err := s.CreatePolicy(ctx, in.Body.rule())
			if err != nil {
				return nil, apiError(err)
			}
			return &policyOutput{Body: toJSON(p)}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "replace-policies", Method: http.MethodPut, Path: "/policies",
		Summary: "Replace every rule that is not built in", Tags: tags, MaxBodyBytes: 1 << 20},
		func(ctx context.Context, in *replaceInput) (*replaceOutput, error) {
			if err := m.require(ctx, "policies", "", "update"); err != nil {
				return nil, err
			}
			rules := make([]Rule, len(in.Body.Policies))
			for i, r := range in.Body.Policies {
				rules[i] = r.rule()
			}
			removed, err := s.removedDenies(ctx, rules)
			if err != nil {
				return nil, apiError(err)
			}
			if err := m.noEscalation(ctx, rules, nil, removed); err != nil {
				return nil, err
			}
			ps, err := s.ReplacePolicies(ctx, rules)
			if err != nil {
				return nil, apiError(err)
			}
			out := &replaceOutput{}
			out.Body.Items = make([]policyJSON, len(ps))
			for i, p := range ps {
				out.Body.Items[i] = toJSON(p)
			}
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "export-policies", Method: http.MethodGet, Path: "/policies/export",
		Summary: "Export every rule and inheritance edge as Casbin CSV", Tags: tags,
		Responses: map[string]*huma.Response{"200": {Description: "Casbin policy CSV", Content: map[string]*huma.MediaType{"text/csv": {}}}}},
		func(ctx context.Context, _ *struct{}) (*exportOutput, error) {
			if err := m.require(ctx, "policies", "", "read"); err != nil {
				return nil, err
			}
			b, err := s.ExportCSV(ctx)
			if err != nil {
				return nil, apiError(err)
			}
			return &exportOutput{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="policies.csv"`, Body: b}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "import-policies", Method: http.MethodPost, Path: "/policies/import",
		Summary: "Replace every rule and inheritance edge that is not built in with a Casbin CSV (all or nothing)", Tags: tags,
		MaxBodyBytes: MaxImportBytes},
		func(ctx context.Context, in *importInput) (*importOutput, error) {
			if err := m.require(ctx, "policies", "", "update"); err != nil {
				return nil, err
			}
			// An unparsable file is refused by ImportCSV, naming the line.
			if rules, parents, err := ParseCSV(in.RawBody); err == nil {
				removed, err := s.removedDenies(ctx, rules)
				if err != nil {
					return nil, apiError(err)
				}
				if err := m.noEscalation(ctx, rules, parents, removed); err != nil {
					return nil, err
				}
			}
			res, err := s.ImportCSV(ctx, in.RawBody)
			if err != nil {
				return nil, apiError(err)
			}
			out := &importOutput{}
			out.Body.Policies, out.Body.RoleParents = res.Policies, res.Parents
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "validate-policy", Method: http.MethodPost, Path: "/policies/validate",
		Summary: "Validate a rule without saving it", Tags: tags, MaxBodyBytes: 16 << 10},
		func(ctx context.Context, in *createInput) (*validateOutput, error) {
			if err := m.require(ctx, "policies", "", "read"); err != nil {
				return nil, err
			}
			r, err := s.ValidateRule(ctx, in.Body.rule())
			if err != nil {
				return nil, apiError(err)
			}
			out := &validateOutput{}
			out.Body.Valid = true
			out.Body.Rule = ruleJSON(r)
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "get-policy", Method: http.MethodGet, Path: "/policies/{id}",
		Summary: "Get a policy rule", Tags: tags}, func(ctx context.Context, in *idInput) (*policyOutput, error) {
		if err := m.require(ctx, "policies", in.ID, "read"); err != nil {
			return nil, err
		}
		p, err := s.GetPolicy(ctx, in.ID)
		if err != nil {
			return nil, apiError(err)
		}
		return &policyOutput{Body: toJSON(p)}, nil
	})
	huma.Register(api, huma.Operation{OperationID: "delete-policy", Method: http.MethodDelete, Path: "/policies/{id}",
		Summary: "Delete a policy rule (built-in rules cannot be deleted)", Tags: tags, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := m.require(ctx, "policies", in.ID, "delete"); err != nil {
				return nil, err
			}
			// Deleting a deny gives back what it withheld.
			if p, err := s.GetPolicy(ctx, in.ID); err == nil && !p.BuiltIn {
				if err := m.noEscalation(ctx, nil, nil, []Rule{p.Rule()}); err != nil {
					return nil, err
				}
			}
			if err := s.DeletePolicy(ctx, in.ID); err != nil {
				return nil, apiError(err)
			}
			return nil, nil
		})

	rtags := []string{"roles"}
	huma.Register(api, huma.Operation{OperationID: "list-role-parents", Method: http.MethodGet, Path: "/roles/{name}/parents",
		Summary: "List the roles a role inherits from", Tags: rtags}, func(ctx context.Context, in *roleInput) (*parentsOutput, error) {
		if err := m.require(ctx, "roles", in.Name, "read"); err != nil {
			return nil, err
		}
		ps, err := s.RoleParents(ctx, in.Name)
		if err != nil {
			return nil, apiError(err)
		}
		out := &parentsOutput{}
		out.Body.Items = make([]parentJSON, len(ps))
		for i, p := range ps {
			out.Body.Items[i] = parentJSON(p)
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{OperationID: "add-role-parent", Method: http.MethodPut, Path: "/roles/{name}/parents/{parent}",
		Summary: "Make a role inherit every rule of another role", Tags: rtags, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *roleParentInput) (*struct{}, error) {
			if err := m.require(ctx, "roles", in.Name, "update"); err != nil {
				return nil, err
			}
			if err := m.noEscalation(ctx, nil, []RoleParent{{Role: in.Name, Parent: in.Parent}}, nil); err != nil {
				return nil, err
			}
			if err := s.AddRoleParent(ctx, in.Name, in.Parent); err != nil {
				return nil, apiError(err)
			}
			return nil, nil
		})
	huma.Register(api, huma.Operation{OperationID: "remove-role-parent", Method: http.MethodDelete, Path: "/roles/{name}/parents/{parent}",
		Summary: "Stop a role inheriting from another", Tags: rtags, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *roleParentInput) (*struct{}, error) {
			if err := m.require(ctx, "roles", in.Name, "update"); err != nil {
				return nil, err
			}
			if err := m.noRemovalEscalation(ctx, in.Parent); err != nil {
				return nil, err
			}
			if err := s.RemoveRoleParent(ctx, in.Name, in.Parent); err != nil {
				return nil, apiError(err)
			}
			return nil, nil
		})
}

// require answers 403 unless the caller may perform action.
func (m *Module) require(ctx context.Context, typ, id, action string) error {
	return apiError(httpserver.Require(ctx, m.svc, principal.Resource{Type: typ, ID: id}, action))
}

// noEscalation answers 403 unless the caller holds every right that storing
// rules, adding edges and removing the deny rules removed would grant
// (CONTRACT: no escalation; see covers.go). It runs before the change, so a
// refused request changes nothing.
func (m *Module) noEscalation(ctx context.Context, rules []Rule, edges []RoleParent, removed []Rule) error {
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	return apiError(m.svc.checkGrants(ctx, p, rules, edges, removed))
}

// noRemovalEscalation answers 403 unless the caller holds what the deny
// rules of role (inherited ones included) withheld: a role that stops
// inheriting it gets those rights back.
func (m *Module) noRemovalEscalation(ctx context.Context, role string) error {
	p, ok := principal.From(ctx)
	if !ok {
		return huma.Error401Unauthorized("authentication required")
	}
	covered, err := m.svc.CoversRoleRemoval(ctx, p, role)
	if err != nil {
		return apiError(err)
	}
	if !covered {
		return apiError(&EscalationError{What: "what the deny rules of role " + role + " withhold"})
	}
	return nil
}

// apiError maps the module's errors to problem responses.
func apiError(err error) error {
	var esc *EscalationError
	if ve, ok := validation.As(err); ok && strings.ContainsAny(ve.Field, " :") {
		// "line 3: subject" (CSV import): the body as a whole is at fault.
		detail := &huma.ErrorDetail{Location: "body", Message: ve.Message}
		if ve.Parse {
			return huma.Error400BadRequest(ve.Error(), detail)
		}
		return huma.Error422UnprocessableEntity(ve.Error(), detail)
	}
	if p, ok := httpserver.InputProblem(err); ok {
		return p
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &esc):
		return huma.Error403Forbidden(esc.Error())
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("no such policy or inheritance edge")
	case errors.Is(err, ErrBuiltIn):
		return huma.Error409Conflict("built-in rules cannot be changed")
	case errors.Is(err, ErrConflict):
		return huma.Error409Conflict(strings.TrimPrefix(err.Error(), "authz: "))
	case errors.Is(err, ErrTooLarge):
		return huma.NewError(http.StatusRequestEntityTooLarge, strings.TrimPrefix(err.Error(), "authz: "))
	case errors.Is(err, ErrCondition):
		return huma.Error400BadRequest("a policy condition could not be evaluated for this request: " + err.Error())
	}
	return err
}

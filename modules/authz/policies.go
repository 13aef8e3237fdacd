package authz

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// PolicyFilter selects policies for ListPolicies.
type PolicyFilter struct {
	Subject   string // exact subject, e.g. "role:editor"
	Resource  string // exact resource pattern, e.g. "docs:*"
	PageSize  int    // default 50, at most 200
	PageToken string
}

// PolicyPage is one page of policies ordered by id.
type PolicyPage = page.Page[Policy]

// ListPolicies returns the stored rules (built-in ones included).
func (s *Service) ListPolicies(ctx context.Context, f PolicyFilter) (PolicyPage, error) {
	size, err := page.Size(f.PageSize)
	if err != nil {
		return PolicyPage{}, err
	}
	after := ""
	if f.PageToken != "" {
		parts, err := page.Decode(f.PageToken, 1)
		if err != nil {
			return PolicyPage{}, err
		}
		after = parts[0]
	}
	rows, err := s.st.listPolicies(ctx, policyFilter{Subject: f.Subject, Resource: f.Resource, After: after, Limit: size + 1})
	if err != nil {
		return PolicyPage{}, err
	}
	return page.Cut(rows, size, func(r policyRow) []string { return []string{r.ID} }, policyRow.toPolicy), nil
}

// GetPolicy returns one rule.
func (s *Service) GetPolicy(ctx context.Context, id string) (Policy, error) {
	r, err := s.st.getPolicy(ctx, id)
	if err != nil {
		return Policy{}, err
	}
	return r.toPolicy(), nil
}

// ValidateRule normalizes and checks a rule as CreatePolicy would, without
// saving it: syntax, condition compilation, and that a role subject exists.
func (s *Service) ValidateRule(ctx context.Context, r Rule) (Rule, error) {
	r = r.Normalize()
	if err := r.Validate(); err != nil {
		return r, err
	}
	return r, s.checkSubjects(ctx, []Rule{r}, nil)
}

// checkSubjects verifies that every role subject names an existing role.
func (s *Service) checkSubjects(ctx context.Context, rules []Rule, fieldPrefix func(int) string) error {
	known := map[string]bool{}
	for i, r := range rules {
		name, ok := strings.CutPrefix(r.Subject, "role:")
		if !ok {
			continue
		}
		exists, seen := known[name]
		if !seen {
			var err error
			if exists, err = s.roles.RoleExists(ctx, name); err != nil {
				return fmt.Errorf("authz: role exists: %w", err)
			}
			known[name] = exists
		}
		if !exists {
			field := "subject"
			if fieldPrefix != nil {
				field = fieldPrefix(i) + "subject"
			}
			return invalid(field, "role %q does not exist", name)
		}
	}
	return nil
}

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("authz: new id: %w", err)
	}
	return id.String(), nil
}

// CreatePolicy validates and stores one rule, records policy.create in the
// same transaction, and applies it at once in this instance.
func (s *Service) CreatePolicy(ctx context.Context, r Rule) (Policy, error) {
	r, err := s.ValidateRule(ctx, r)
	if err != nil {
		return Policy{}, err
	}
	id, err := newID()
	if err != nil {
		return Policy{}, err
	}
	row := policyRow{ID: id, Subject: r.Subject, Resource: r.Resource, Action: r.Action,
		Effect: r.Effect, Condition: r.Condition, CreatedAt: s.opts.Now().UTC().Truncate(time.Microsecond)}
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		if err := s.st.insertPolicies(ctx, []policyRow{row}); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "policy.create", Target: audit.Ref{Type: "policy", ID: id},
			Details: map[string]string{"subject": r.Subject, "resource": r.Resource, "action": r.Action, "effect": r.Effect, "condition": r.Condition}})
	})
	if err != nil {
		return Policy{}, err
	}
	s.changed(ctx)
	return row.toPolicy(), nil
}

// UpdatePolicy replaces the rule of a policy that is not built in, keeping
// its id, and records policy.update (the rule before and after) in the same
// transaction.
func (s *Service) UpdatePolicy(ctx context.Context, id string, r Rule) (Policy, error) {
	r, err := s.ValidateRule(ctx, r)
	if err != nil {
		return Policy{}, err
	}
	var out policyRow
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		old, err := s.st.getPolicy(ctx, id)
		if err != nil {
			return err
		}
		if old.BuiltIn {
			return fmt.Errorf("policy %s: %w", id, ErrBuiltIn)
		}
		if err := s.st.updatePolicy(ctx, id, r); err != nil {
			return err
		}
		out = old
		out.Subject, out.Resource, out.Action, out.Effect, out.Condition = r.Subject, r.Resource, r.Action, r.Effect, r.Condition
		return s.audit.Record(ctx, audit.Event{Action: "policy.update", Target: audit.Ref{Type: "policy", ID: id},
			Details: map[string]string{
				"subject": r.Subject, "resource": r.Resource, "action": r.Action, "effect": r.Effect, "condition": r.Condition,
				"was": describe(old.toPolicy().Rule()),
			}})
	})
	if err != nil {
		return Policy{}, err
	}
	s.changed(ctx)
	return out.toPolicy(), nil
}

// DeletePolicy deletes a rule that is not built in.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	err := database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		row, err := s.st.getPolicy(ctx, id)
		if err != nil {
			return err
		}
		if row.BuiltIn {
			return fmt.Errorf("policy %s: %w", id, ErrBuiltIn)
		}
		if err := s.st.deletePolicy(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "policy.delete", Target: audit.Ref{Type: "policy", ID: id},
			Details: map[string]string{"subject": row.Subject, "resource": row.Resource, "action": row.Action, "effect": row.Effect}})
	})
	if err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// prepareSet validates a whole set of rules, drops duplicates and rules
// equal to a built-in one, and builds the rows.
func (s *Service) prepareSet(ctx context.Context, rules []Rule, field func(int) string) ([]policyRow, error) {
	if len(rules) > MaxRules {
		return nil, fmt.Errorf("%w: at most %d rules", ErrTooLarge, MaxRules)
	}
	norm := make([]Rule, len(rules))
	for i, r := range rules {
		r = r.Normalize()
		if err := r.Validate(); err != nil {
			var ve *validation.Error
			if errors.As(err, &ve) {
				return nil, &validation.Error{Field: field(i) + ve.Field, Message: ve.Message, Parse: ve.Parse}
			}
			return nil, err
		}
		norm[i] = r
	}
	if err := s.checkSubjects(ctx, norm, field); err != nil {
		return nil, err
	}
	builtIn, err := s.builtInKeys(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(norm))
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	rows := make([]policyRow, 0, len(norm))
	for _, r := range norm {
		k := r.key()
		if seen[k] || builtIn[k] {
			continue
		}
		seen[k] = true
		id, err := newID()
		if err != nil {
			return nil, err
		}
		rows = append(rows, policyRow{ID: id, Subject: r.Subject, Resource: r.Resource, Action: r.Action,
			Effect: r.Effect, Condition: r.Condition, CreatedAt: now})
	}
	return rows, nil
}

func (s *Service) builtInKeys(ctx context.Context) (map[string]bool, error) {
	var rows []policyRow
	if err := s.st.conn(ctx).Where("built_in = ?", true).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: built-in rules: %w", err)
	}
	m := make(map[string]bool, len(rows))
	for _, r := range rows {
		m[r.toPolicy().Rule().key()] = true
	}
	return m, nil
}

// ReplacePolicies replaces every rule that is not built in with rules, in
// one transaction (policy.replace). Duplicates and copies of built-in
// rules are skipped. Role inheritance is left as it is.
func (s *Service) ReplacePolicies(ctx context.Context, rules []Rule) ([]Policy, error) {
	rows, err := s.prepareSet(ctx, rules, func(i int) string { return "policies[" + strconv.Itoa(i) + "]." })
	if err != nil {
		return nil, err
	}
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		if err := s.st.deleteCustomPolicies(ctx); err != nil {
			return err
		}
		if err := s.st.insertPolicies(ctx, rows); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "policy.replace", Target: audit.Ref{Type: "policy", ID: "*"},
			Details: map[string]string{"rules": strconv.Itoa(len(rows))}})
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx)
	out := make([]Policy, len(rows))
	for i, r := range rows {
		out[i] = r.toPolicy()
	}
	return out, nil
}

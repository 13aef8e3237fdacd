package authz

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// Import and export of the whole policy set as Casbin CSV (p and g lines).

// ImportResult counts what an import stored.
type ImportResult struct {
	Policies int
	Parents  int
}

// ImportCSV replaces every rule and inheritance edge that is not built in
// with the content of a Casbin CSV file (see ParseCSV), all or nothing, in
// one transaction (policy.import). Lines equal to built-in rules (as
// ExportCSV writes them) are skipped, so an export imports unchanged.
func (s *Service) ImportCSV(ctx context.Context, data []byte) (ImportResult, error) {
	rules, parents, err := ParseCSV(data)
	if err != nil {
		return ImportResult{}, err
	}
	rows, err := s.prepareSet(ctx, rules, func(i int) string { return "rule " + strconv.Itoa(i+1) + ": " })
	if err != nil {
		return ImportResult{}, err
	}
	prows, err := s.prepareParents(ctx, parents)
	if err != nil {
		return ImportResult{}, err
	}
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		if err := s.st.deleteCustomPolicies(ctx); err != nil {
			return err
		}
		if err := s.st.deleteCustomParents(ctx); err != nil {
			return err
		}
		if err := s.st.insertPolicies(ctx, rows); err != nil {
			return err
		}
		if err := s.st.insertParents(ctx, prows); err != nil {
			return err
		}
		all, err := s.st.allParents(ctx)
		if err != nil {
			return err
		}
		if err := checkGraph(all); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "policy.import", Target: audit.Ref{Type: "policy", ID: "*"},
			Details: map[string]string{"rules": strconv.Itoa(len(rows)), "role_parents": strconv.Itoa(len(prows))}})
	})
	if err != nil {
		return ImportResult{}, err
	}
	s.changed(ctx)
	return ImportResult{Policies: len(rows), Parents: len(prows)}, nil
}

func (s *Service) prepareParents(ctx context.Context, parents []RoleParent) ([]parentRow, error) {
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	seen := map[string]bool{}
	known := map[string]bool{}
	var rows []parentRow
	for _, p := range parents {
		if err := p.Validate(); err != nil {
			return nil, err
		}
		for _, n := range []string{p.Role, p.Parent} {
			if _, ok := known[n]; ok {
				continue
			}
			ok, err := s.roles.RoleExists(ctx, n)
			if err != nil {
				return nil, fmt.Errorf("authz: role exists: %w", err)
			}
			if !ok {
				return nil, invalid("role", "role %q does not exist", n)
			}
			known[n] = true
		}
		k := p.Role + "\x00" + p.Parent
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, parentRow{Role: p.Role, Parent: p.Parent, CreatedAt: now})
	}
	return rows, nil
}

// ExportCSV returns every rule (built-in ones included) and inheritance
// edge in Casbin's CSV policy format.
func (s *Service) ExportCSV(ctx context.Context) ([]byte, error) {
	rows, err := s.st.allPolicies(ctx)
	if err != nil {
		return nil, err
	}
	prows, err := s.st.allParents(ctx)
	if err != nil {
		return nil, err
	}
	ps := make([]Policy, len(rows))
	for i, r := range rows {
		ps[i] = r.toPolicy()
	}
	gs := make([]RoleParent, len(prows))
	for i, r := range prows {
		gs[i] = RoleParent{Role: r.Role, Parent: r.Parent, BuiltIn: r.BuiltIn}
	}
	return writeCSV(ps, gs)
}

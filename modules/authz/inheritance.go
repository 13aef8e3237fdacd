package authz

import (
	"context"
	"fmt"
	"sort"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// maxInheritanceDepth keeps chains within Casbin's role manager limit (10).
const maxInheritanceDepth = 8

// checkGraph rejects cycles and chains deeper than maxInheritanceDepth.
func checkGraph(rows []parentRow) error {
	adj := map[string][]string{}
	for _, r := range rows {
		adj[r.Role] = append(adj[r.Role], r.Parent)
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	depth := map[string]int{}
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case visiting:
			return fmt.Errorf("role inheritance cycle through %q: %w", n, ErrConflict)
		case done:
			return nil
		}
		state[n] = visiting
		d := 0
		for _, p := range adj[n] {
			if err := visit(p); err != nil {
				return err
			}
			if depth[p]+1 > d {
				d = depth[p] + 1
			}
		}
		state[n] = done
		depth[n] = d
		if d > maxInheritanceDepth {
			return fmt.Errorf("role inheritance deeper than %d levels at %q: %w", maxInheritanceDepth, n, ErrConflict)
		}
		return nil
	}
	keys := make([]string, 0, len(adj))
	for k := range adj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := visit(k); err != nil {
			return err
		}
	}
	return nil
}

// RoleParents returns the roles that role inherits from directly.
func (s *Service) RoleParents(ctx context.Context, role string) ([]RoleParent, error) {
	var rows []parentRow
	if err := s.st.conn(ctx).Where("role = ?", role).Order("parent").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: role parents: %w", err)
	}
	out := make([]RoleParent, len(rows))
	for i, r := range rows {
		out[i] = RoleParent{Role: r.Role, Parent: r.Parent, BuiltIn: r.BuiltIn}
	}
	return out, nil
}

// AddRoleParent makes role inherit every rule granted to parent. Both
// roles must exist; cycles and chains deeper than 8 are refused
// (ErrConflict). Adding an existing edge is a no-op.
func (s *Service) AddRoleParent(ctx context.Context, role, parent string) error {
	e := RoleParent{Role: role, Parent: parent}
	if err := e.Validate(); err != nil {
		return err
	}
	rows, err := s.prepareParents(ctx, []RoleParent{e})
	if err != nil {
		return err
	}
	err = database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		if err := s.st.insertParents(ctx, rows); err != nil {
			return err
		}
		all, err := s.st.allParents(ctx)
		if err != nil {
			return err
		}
		if err := checkGraph(all); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "role_parent.create", Target: audit.Ref{Type: "role", ID: role},
			Details: map[string]string{"parent": parent}})
	})
	if err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// RemoveRoleParent deletes an inheritance edge.
func (s *Service) RemoveRoleParent(ctx context.Context, role, parent string) error {
	err := database.Transact(ctx, s.db.Gorm, func(ctx context.Context) error {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		if err := s.st.deleteParent(ctx, role, parent); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: "role_parent.delete", Target: audit.Ref{Type: "role", ID: role},
			Details: map[string]string{"parent": parent}})
	})
	if err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// RoleDeleted removes every rule whose subject is "role:<name>" and every
// inheritance edge naming the role, inside the caller's transaction, so a
// role later re-created with the same name starts without rights. Identity
// should call it from DeleteRole (built-in rules and edges are kept).
func (s *Service) RoleDeleted(ctx context.Context, name string) error {
	n, err := s.st.deleteSubjectPolicies(ctx, "role:"+name)
	if err != nil {
		return err
	}
	res := s.st.conn(ctx).Where("(role = ? OR parent = ?) AND built_in = ?", name, name, false).Delete(&parentRow{})
	if res.Error != nil {
		return fmt.Errorf("authz: delete role parents of %s: %w", name, res.Error)
	}
	if n+res.RowsAffected > 0 {
		if err := s.st.bump(ctx); err != nil {
			return err
		}
		s.changed(ctx)
	}
	return nil
}

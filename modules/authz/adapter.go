package authz

import (
	"context"
	"errors"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// adapter is Casbin's persist.Adapter over our own tables (authz_policies,
// authz_role_parents) — a few methods instead of casbin/gorm-adapter and the
// MySQL and SQL Server drivers it pulls in.
//
// It is read-only: every change goes through the Service, which writes rows,
// the audit event and the version bump in one transaction and then reloads.
// Casbin's auto-save is off, so the write methods are never called; they
// fail loudly if someone calls them anyway.
//
// Reload reads the tables (fetch) and builds the next snapshot from them
// (decide.go) before swapping it in, so a slow query or a long build never
// blocks decisions. LoadPolicy reads the tables itself unless rows are
// pending.
type adapter struct {
	store   store
	pending *snapshotRows
}

type snapshotRows struct {
	policies []policyRow
	parents  []parentRow
}

var _ persist.Adapter = (*adapter)(nil)

// errReadOnly is returned by the write methods of the adapter.
var errReadOnly = errors.New("authz: the Casbin adapter is read-only; change policies through authz.Service")

func (a *adapter) fetch(ctx context.Context) (*snapshotRows, error) {
	p, err := a.store.allPolicies(ctx)
	if err != nil {
		return nil, err
	}
	g, err := a.store.allParents(ctx)
	if err != nil {
		return nil, err
	}
	return &snapshotRows{policies: p, parents: g}, nil
}

// LoadPolicy loads every rule and inheritance edge into m.
func (a *adapter) LoadPolicy(m model.Model) error {
	rows := a.pending
	a.pending = nil
	if rows == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if rows, err = a.fetch(ctx); err != nil {
			return err
		}
	}
	for _, r := range rows.policies {
		if err := persist.LoadPolicyArray([]string{"p", r.Subject, r.Resource, r.Action, r.Effect, r.Condition}, m); err != nil {
			return err
		}
	}
	for _, r := range rows.parents {
		if err := persist.LoadPolicyArray([]string{"g", "role:" + r.Role, "role:" + r.Parent}, m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy is not supported (see the type comment).
func (a *adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy is not supported (see the type comment).
func (a *adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy is not supported (see the type comment).
func (a *adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy is not supported (see the type comment).
func (a *adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

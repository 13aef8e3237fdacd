package apikeys

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// ResourceTypes and Actions are the names a scope may use (see
// principal.Resource); "*" stands for any of them. A scope outside these is a
// typo, so creation rejects it instead of minting a key that can do nothing.
var (
	ResourceTypes = []string{"users", "roles", "api-keys", "audit-events", "clients", "policies", "signing-keys", "sessions", "passkeys", "authzen"}
	Actions       = []string{"read", "create", "update", "delete", "assign", "evaluate", "rotate"}
)

// MaxScopes bounds the scopes of one key.
const MaxScopes = 50

// ValidateScopes checks each scope has the form <type>:<action> with known
// names or "*", and returns them sorted without duplicates (nil for none).
func ValidateScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	if len(scopes) > MaxScopes {
		return nil, &validation.Error{Field: "scopes", Message: fmt.Sprintf("at most %d scopes", MaxScopes)}
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		typ, action, ok := strings.Cut(s, ":")
		if !ok || (typ != "*" && !slices.Contains(ResourceTypes, typ)) || (action != "*" && !slices.Contains(Actions, action)) {
			return nil, &validation.Error{Field: "scopes", Message: fmt.Sprintf("%q is not a scope: use <type>:<action> with type one of %s or *, action one of %s or *",
				truncate(s, 64), strings.Join(ResourceTypes, ", "), strings.Join(Actions, ", "))}
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// covers reports whether scope have allows everything scope want allows.
func covers(have, want string) bool {
	ht, ha, _ := strings.Cut(have, ":")
	wt, wa, _ := strings.Cut(want, ":")
	return (ht == "*" || ht == wt) && (ha == "*" || ha == wa)
}

// coveredBy reports whether every scope in want is covered by one in have.
func coveredBy(want, have []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return covers(h, w) }) {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// inheritable keeps the caller's scopes that are valid key scopes (an access
// token may also carry "openid", "profile", ...), sorted and unique.
func inheritable(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if v, err := ValidateScopes([]string{s}); err == nil {
			out = append(out, v...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

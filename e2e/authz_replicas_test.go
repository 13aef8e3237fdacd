package e2e

import (
	"net/http"
	"testing"
	"time"
)

// propagation is how long another instance may take to apply a change: the
// issue says "within about one second"; 2 s leaves room for a loaded CI box.
const azPropagation = 2 * time.Second

// TestAuthzReplicasPolicyPropagation: two instances on one PostgreSQL
// database. A policy change through one applies at once there and within
// about a second on the other, in both directions, for create, delete,
// replace-all and role inheritance; so does taking a role from a user.
func TestAuthzReplicasPolicyPropagation(t *testing.T) {
	t.Parallel()
	dbURL := newDatabaseURL(t, postgresDB)
	key := newMasterKey()
	a := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key})
	b := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key})
	admin := a.AdminKey(t) // same database: valid on both
	ca, cb := api(a, admin), api(b, admin)

	azCreateRole(t, ca, "analyst")
	azCreateRole(t, ca, "intern")
	ana := createUser(t, a, "ana@example.com", "analyst-password-1", "analyst")
	ina := createUser(t, a, "ina@example.com", "intern-password-12", "intern")

	for _, s := range []*server{a, b} {
		azExpect(t, s, admin, ana, "read", "dashboard", "7", false)
	}

	// Create on A: at once on A, within ~1 s on B.
	p := azAllow(t, ca, "role:analyst", "dashboard:*", "read")
	azExpect(t, a, admin, ana, "read", "dashboard", "7", true)
	took := azWait(t, b, admin, ana, "read", "dashboard", "7", true, azPropagation)
	t.Logf("create on A visible on B after %s", took)

	// Delete on B: at once on B, within ~1 s on A.
	cb.do(t, "DELETE", "/policies/"+p.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
	azExpect(t, b, admin, ana, "read", "dashboard", "7", false)
	took = azWait(t, a, admin, ana, "read", "dashboard", "7", false, azPropagation)
	t.Logf("delete on B visible on A after %s", took)

	// A deny added on B wins on A too.
	azAllow(t, ca, "role:analyst", "dashboard:*", "read")
	azWait(t, b, admin, ana, "read", "dashboard", "secret", true, azPropagation)
	azDeny(t, cb, "role:analyst", "dashboard:secret", "read")
	azExpect(t, b, admin, ana, "read", "dashboard", "secret", false)
	azWait(t, a, admin, ana, "read", "dashboard", "secret", false, azPropagation)
	azExpect(t, a, admin, ana, "read", "dashboard", "7", true)

	// Replace-all on A.
	ca.do(t, "PUT", "/policies", map[string]any{"policies": []any{azRule("role:analyst", "report:*", "read", "allow")}}).expect(t, http.StatusOK)
	azExpect(t, a, admin, ana, "read", "dashboard", "7", false)
	azExpect(t, a, admin, ana, "read", "report", "7", true)
	azWait(t, b, admin, ana, "read", "dashboard", "7", false, azPropagation)
	azWait(t, b, admin, ana, "read", "report", "7", true, azPropagation)

	// Role inheritance changed on B reaches A.
	cb.do(t, "PUT", "/roles/intern/parents/analyst", nil).expect(t, http.StatusNoContent, http.StatusOK, http.StatusCreated)
	azExpect(t, b, admin, ina, "read", "report", "7", true)
	azWait(t, a, admin, ina, "read", "report", "7", true, azPropagation)

	// CSV import on B reaches A.
	csv := []byte("p, role:analyst, metric:*, read, allow\n")
	azRawDo(t, cb, "POST", "/policies/import", "text/csv", csv).expect(t, http.StatusOK, http.StatusCreated, http.StatusNoContent)
	azExpect(t, b, admin, ana, "read", "metric", "1", true)
	azWait(t, a, admin, ana, "read", "metric", "1", true, azPropagation)

	// Taking a role away on A: at once on A, and B stops honouring it
	// within about a second (a revoked right must not linger). A fresh
	// user whose rights B has just decided, so nothing B remembers about
	// them is old.
	rex := createUser(t, a, "rex@example.com", "analyst-password-2", "analyst")
	azExpect(t, b, admin, rex, "read", "metric", "1", true)
	ca.do(t, "DELETE", "/users/"+rex+"/roles/analyst", nil).expect(t, http.StatusOK, http.StatusNoContent)
	azExpect(t, a, admin, rex, "read", "metric", "1", false)
	took = azWait(t, b, admin, rex, "read", "metric", "1", false, azPropagation)
	t.Logf("role removal on A visible on B after %s", took)

	// Likewise a role given on B reaches A's decisions and A's own API.
	createUser(t, b, "gus@example.com", "auditor-password-3")
	gus := azUserID(t, cb, "gus@example.com")
	gusKey := createAPIKey(t, b, "gus@example.com", "gus")
	assertProblem(t, api(a, gusKey).get(t, "/audit-events"), http.StatusForbidden)
	cb.do(t, "PUT", "/users/"+gus+"/roles/auditor", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
	api(b, gusKey).get(t, "/audit-events").expect(t, http.StatusOK)
	deadline := time.Now().Add(azPropagation)
	for api(a, gusKey).get(t, "/audit-events").Status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("auditor role given on B not honoured by A's API within %s", azPropagation)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package e2e

import (
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"testing"
)

var azValidation = []int{http.StatusBadRequest, http.StatusUnprocessableEntity}

// TestAuthzPolicyCRUD: create, list, delete a rule on both databases; the
// decision follows each change at once; every malformed rule is a clear 4xx
// naming the problem, and changes nothing.
func TestAuthzPolicyCRUD(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})
		admin := srv.AdminKey(t)
		c := api(srv, admin)
		azCreateRole(t, c, "accountant")
		ann := createUser(t, srv, "ann@example.com", "ann-password-123", "accountant")

		azExpect(t, srv, admin, ann, "read", "invoice", "7", false)

		// Create.
		p := azAllow(t, c, "role:accountant", "invoice:*", "read")
		list := azListPolicies(t, c)
		found := false
		for _, x := range list {
			if x.ID == p.ID {
				found = true
				if x.rule() != p.rule() {
					t.Errorf("listed %+v, created %+v", x, p)
				}
			}
		}
		if !found {
			t.Fatalf("created policy %s not in the list %+v", p.ID, list)
		}
		// At once in the instance that made it: no polling.
		azExpect(t, srv, admin, ann, "read", "invoice", "7", true)
		azExpect(t, srv, admin, ann, "delete", "invoice", "7", false)
		azExpect(t, srv, admin, ann, "read", "order", "7", false)

		// The list filters by subject? Not in the CONTRACT; only check the
		// plain list and that it is a list answer.
		var raw map[string]any
		c.get(t, "/policies").expect(t, http.StatusOK).decode(t, &raw)
		if _, ok := raw["items"]; !ok {
			t.Errorf("GET /policies is not a list answer: %v", raw)
		}

		// Malformed rules: 400/422 naming the field, nothing changed.
		before := azSnapshot(t, c)
		bad := []struct {
			name     string
			body     any
			statuses []int
			mention  []string
		}{
			{"subject without kind", azRule("accountant", "invoice:*", "read", "allow"), azValidation, []string{"subject"}},
			{"subject of unknown kind", azRule("group:finance", "invoice:*", "read", "allow"), azValidation, []string{"subject"}},
			{"empty subject", azRule("", "invoice:*", "read", "allow"), azValidation, []string{"subject"}},
			{"resource without id", azRule("role:accountant", "invoice", "read", "allow"), azValidation, []string{"resource"}},
			{"empty resource", azRule("role:accountant", "", "read", "allow"), azValidation, []string{"resource"}},
			{"empty action", azRule("role:accountant", "invoice:*", "", "allow"), azValidation, []string{"action"}},
			{"unknown effect", azRule("role:accountant", "invoice:*", "read", "perhaps"), azValidation, []string{"effect"}},
			{"missing effect", map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "read"}, azValidation, []string{"effect"}},
			{"unknown field", map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "write", "effect": "allow", "priority": 5}, azValidation, []string{"priority"}},
			{"condition that does not parse", map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "write", "effect": "allow", "condition": "r.ctx.amount <"}, []int{http.StatusBadRequest}, []string{"condition"}},
			{"condition with unbalanced parenthesis", map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "write", "effect": "allow", "condition": "(r.ctx.amount < 5"}, []int{http.StatusBadRequest}, []string{"condition"}},
			{"malformed JSON", `{"subject": "role:accountant", "resource": `, []int{http.StatusBadRequest}, nil},
			{"not an object", `["role:accountant", "invoice:*", "read", "allow"]`, azValidation, nil},
		}
		for _, tc := range bad {
			r := c.do(t, "POST", "/policies", tc.body)
			t.Run(tc.name, func(t *testing.T) { assertProblemIn(t, r, tc.statuses, tc.mention...) })
		}
		huge := fmt.Sprintf(`{"subject": "role:accountant", "resource": "invoice:*", "action": "write", "effect": "allow", "condition": %q}`,
			"r.ctx.a == '"+strings.Repeat("a", 2<<20)+"'")
		assertProblem(t, c.do(t, "POST", "/policies", huge), http.StatusRequestEntityTooLarge)
		azAssertUnchanged(t, "refused POST /policies", before, azSnapshot(t, c))
		azExpect(t, srv, admin, ann, "write", "invoice", "7", false)

		// Validate a rule before saving: a good one passes and is not
		// stored; one that does not parse is a 400 naming the problem.
		good := map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "approve", "effect": "allow", "condition": "r.ctx.amount < 1000"}
		c.do(t, "POST", "/policies/validate", good).expect(t, http.StatusOK)
		assertProblem(t, c.do(t, "POST", "/policies/validate",
			map[string]any{"subject": "role:accountant", "resource": "invoice:*", "action": "approve", "effect": "allow", "condition": "r.ctx.amount < < 1000"}),
			http.StatusBadRequest, "condition")
		assertProblemIn(t, c.do(t, "POST", "/policies/validate", azRule("role:accountant", "invoice", "read", "allow")), azValidation, "resource")
		assertProblemIn(t, c.do(t, "POST", "/policies/validate", azRule("role:accountant", "invoice:*", "read", "sometimes")), azValidation, "effect")
		azAssertUnchanged(t, "POST /policies/validate", before, azSnapshot(t, c))

		// Pagination: page_size and an opaque page_token walk every rule
		// once.
		want := map[string]bool{p.ID: true}
		for i := 0; i < 7; i++ {
			want[azAllow(t, c, "role:accountant", fmt.Sprintf("ledger:%d", i), "read").ID] = true
		}
		seen := map[string]bool{}
		token, pages := "", 0
		for {
			q := "/policies?page_size=3"
			if token != "" {
				q += "&page_token=" + token
			}
			var pg page[azPolicyDTO]
			c.get(t, q).expect(t, http.StatusOK).decode(t, &pg)
			pages++
			if len(pg.Items) > 3 {
				t.Fatalf("page of %d policies with page_size 3", len(pg.Items))
			}
			for _, x := range pg.Items {
				if seen[x.ID] {
					t.Fatalf("policy %s on two pages", x.ID)
				}
				seen[x.ID] = true
			}
			if pg.NextPageToken == "" {
				break
			}
			if pages > 50 {
				t.Fatal("pagination does not end")
			}
			token = pg.NextPageToken
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("policy %s missing from the paged list", id)
			}
		}
		if pages < 3 {
			t.Errorf("%d rules on %d pages of 3", len(seen), pages)
		}
		assertProblemIn(t, c.get(t, "/policies?page_token=garbage!"), azValidation)
		assertProblemIn(t, c.get(t, "/policies?page_size=100000"), azValidation, "page_size")

		// Delete.
		c.do(t, "DELETE", "/policies/"+p.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
		if l := azListPolicies(t, c); azHasRule(l, "role:accountant", "invoice:*", "read", "allow") {
			t.Errorf("deleted rule still listed: %+v", l)
		}
		azExpect(t, srv, admin, ann, "read", "invoice", "7", false)
		assertProblem(t, c.do(t, "DELETE", "/policies/"+p.ID, nil), http.StatusNotFound)
		assertProblem(t, c.do(t, "DELETE", "/policies/0192f0c1-7d0a-7000-8000-000000000000", nil), http.StatusNotFound)

		// The changes are audited.
		var events page[auditEventDTO]
		c.get(t, "/audit-events?page_size=200").expect(t, http.StatusOK).decode(t, &events)
		seen = map[string]bool{}
		for _, e := range events.Items {
			if e.Target.ID == p.ID {
				seen[e.Action] = true
			}
		}
		if len(seen) < 2 {
			t.Errorf("audit log has %v for policy %s, want its creation and deletion", seen, p.ID)
		}
	})
}

// TestAuthzDenyWinsAndPatterns: resource patterns <type>:<id> with "*",
// exact ids, "*" actions, and deny winning over allow whether it comes from
// the same role, another role of the user, or a rule on the user.
func TestAuthzDenyWinsAndPatterns(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	for _, r := range []string{"billing", "frozen", "pm"} {
		azCreateRole(t, c, r)
	}
	alice := createUser(t, srv, "alice@example.com", "alice-password-1", "billing")
	bob := createUser(t, srv, "bob@example.com", "bob-password-123", "billing", "frozen")
	carol := createUser(t, srv, "carol@example.com", "carol-password-1", "billing")
	dave := createUser(t, srv, "dave@example.com", "dave-password-12", "pm")

	azAllow(t, c, "role:billing", "invoice:*", "read")
	azAllow(t, c, "role:billing", "invoice:*", "update")
	azDeny(t, c, "role:billing", "invoice:42", "update")
	azDeny(t, c, "role:frozen", "invoice:*", "*")
	azDeny(t, c, "user:"+carol, "invoice:7", "read")
	azAllow(t, c, "role:pm", "project:42", "*")

	for _, tc := range []struct {
		user, action, typ, id string
		want                  bool
	}{
		// invoice:* matches any invoice id, nothing else.
		{alice, "read", "invoice", "1", true},
		{alice, "read", "invoice", "42", true},
		{alice, "read", "invoice", "abc-9", true},
		{alice, "read", "invoices", "1", false},
		{alice, "read", "order", "1", false},
		{alice, "delete", "invoice", "1", false},
		// deny on one id within the same role wins over the pattern's allow.
		{alice, "update", "invoice", "1", true},
		{alice, "update", "invoice", "42", false},
		// a deny through a second role wins over the first role's allow.
		{bob, "read", "invoice", "1", false},
		{bob, "update", "invoice", "1", false},
		// a deny on the user wins over the role's allow, for that id only.
		{carol, "read", "invoice", "7", false},
		{carol, "read", "invoice", "8", true},
		// project:42 matches exactly that id; "*" any action.
		{dave, "read", "project", "42", true},
		{dave, "delete", "project", "42", true},
		{dave, "read", "project", "43", false},
		{dave, "read", "project", "420", false},
		{dave, "read", "project", "4", false},
		{dave, "read", "invoice", "42", false},
	} {
		azExpect(t, srv, admin, tc.user, tc.action, tc.typ, tc.id, tc.want)
	}

	// A deny wins however the rules are ordered: add an allow after a deny.
	azAllow(t, c, "user:"+carol, "invoice:7", "read")
	azExpect(t, srv, admin, carol, "read", "invoice", "7", false)
	// An allow on the user works where nothing denies.
	azAllow(t, c, "user:"+dave, "project:43", "read")
	azExpect(t, srv, admin, dave, "read", "project", "43", true)
	azExpect(t, srv, admin, dave, "update", "project", "43", false)
}

// TestAuthzRoleInheritance: a role that inherits another gets its allows
// and its denies; removing the edge takes effect at once; cycles are
// refused.
func TestAuthzRoleInheritance(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	azCreateRole(t, c, "junior")
	azCreateRole(t, c, "senior")
	azCreateRole(t, c, "lead")
	jun := createUser(t, srv, "jun@example.com", "junior-password-1", "junior")
	sen := createUser(t, srv, "sen@example.com", "senior-password-1", "senior")
	lea := createUser(t, srv, "lea@example.com", "lead-password-123", "lead")

	azAllow(t, c, "role:junior", "doc:*", "read")
	azDeny(t, c, "role:junior", "doc:secret", "read")
	azAllow(t, c, "role:senior", "doc:*", "update")

	azExpect(t, srv, admin, sen, "read", "doc", "1", false)
	c.do(t, "PUT", "/roles/senior/parents/junior", nil).expect(t, http.StatusNoContent, http.StatusOK, http.StatusCreated)
	c.do(t, "PUT", "/roles/lead/parents/senior", nil).expect(t, http.StatusNoContent, http.StatusOK, http.StatusCreated)

	azExpect(t, srv, admin, sen, "read", "doc", "1", true)       // inherited allow
	azExpect(t, srv, admin, sen, "update", "doc", "1", true)     // own allow
	azExpect(t, srv, admin, sen, "read", "doc", "secret", false) // inherited deny wins
	azExpect(t, srv, admin, jun, "update", "doc", "1", false)    // inheritance goes one way
	azExpect(t, srv, admin, lea, "read", "doc", "1", true)       // two levels
	azExpect(t, srv, admin, lea, "update", "doc", "1", true)

	var parents page[map[string]any]
	c.get(t, "/roles/senior/parents").expect(t, http.StatusOK).decode(t, &parents)
	if !strings.Contains(fmt.Sprint(parents.Items), "junior") {
		t.Errorf("GET /roles/senior/parents = %v, want junior", parents.Items)
	}

	// A cycle is refused and changes nothing.
	r := c.do(t, "PUT", "/roles/junior/parents/lead", nil)
	assertProblemIn(t, r, []int{http.StatusConflict, http.StatusBadRequest, http.StatusUnprocessableEntity})
	azExpect(t, srv, admin, jun, "update", "doc", "1", false)
	assertProblemIn(t, c.do(t, "PUT", "/roles/junior/parents/no-such-role", nil),
		[]int{http.StatusNotFound, http.StatusBadRequest, http.StatusUnprocessableEntity})

	// Removing the edge takes effect at once, for both levels below.
	c.do(t, "DELETE", "/roles/senior/parents/junior", nil).expect(t, http.StatusNoContent, http.StatusOK)
	azExpect(t, srv, admin, sen, "read", "doc", "1", false)
	azExpect(t, srv, admin, lea, "read", "doc", "1", false)
	azExpect(t, srv, admin, lea, "update", "doc", "1", true)
}

// TestAuthzReplaceAll: PUT /api/v1/policies replaces the whole set in one
// transaction; a set with one bad rule changes nothing; Gatehouse's own
// built-in permissions survive a replacement.
func TestAuthzReplaceAll(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})
		admin := srv.AdminKey(t)
		c := api(srv, admin)
		azCreateRole(t, c, "ops")
		olga := createUser(t, srv, "olga@example.com", "olga-password-12", "ops")

		azAllow(t, c, "role:ops", "server:*", "read")
		azAllow(t, c, "role:ops", "server:*", "reboot")
		azExpect(t, srv, admin, olga, "reboot", "server", "1", true)

		set := []map[string]any{
			azRule("role:ops", "server:*", "read", "allow"),
			azRule("role:ops", "database:*", "read", "allow"),
			azRule("role:ops", "database:prod", "read", "deny"),
		}
		var replaced struct {
			Items []azPolicyDTO `json:"items"`
		}
		c.do(t, "PUT", "/policies", map[string]any{"policies": set}).expect(t, http.StatusOK).decode(t, &replaced)
		list := azListPolicies(t, c)
		for _, want := range set {
			if !azHasRule(list, want["subject"].(string), want["resource"].(string), want["action"].(string), want["effect"].(string)) {
				t.Errorf("after PUT /policies, %v is not listed: %+v", want, list)
			}
		}
		if azHasRule(list, "role:ops", "server:*", "reboot", "allow") {
			t.Errorf("after PUT /policies the rule left out of the set is still listed: %+v", list)
		}
		azExpect(t, srv, admin, olga, "reboot", "server", "1", false)
		azExpect(t, srv, admin, olga, "read", "server", "1", true)
		azExpect(t, srv, admin, olga, "read", "database", "dev", true)
		azExpect(t, srv, admin, olga, "read", "database", "prod", false)

		// Gatehouse's own permissions are not part of the replaced set: the
		// admin still administers.
		c.get(t, "/policies").expect(t, http.StatusOK)
		c.get(t, "/users").expect(t, http.StatusOK)

		// A set with a bad rule anywhere changes nothing.
		before := azSnapshot(t, c)
		good := azRule("role:ops", "backup:*", "restore", "allow")
		for _, tc := range []struct {
			name     string
			body     any
			statuses []int
			mention  []string
		}{
			{"bad effect last", map[string]any{"policies": []any{good, azRule("role:ops", "backup:*", "read", "perhaps")}}, azValidation, []string{"effect"}},
			{"bad resource first", map[string]any{"policies": []any{azRule("role:ops", "backup", "read", "allow"), good}}, azValidation, []string{"resource"}},
			{"bad subject", map[string]any{"policies": []any{good, azRule("team:ops", "backup:*", "read", "allow")}}, azValidation, []string{"subject"}},
			{"condition does not parse", map[string]any{"policies": []any{good, map[string]any{"subject": "role:ops", "resource": "backup:*", "action": "read", "effect": "allow", "condition": "r.ctx.x =="}}}, []int{http.StatusBadRequest}, []string{"condition"}},
			{"unknown field in a rule", map[string]any{"policies": []any{good, map[string]any{"subject": "role:ops", "resource": "backup:*", "action": "read", "effect": "allow", "weight": 1}}}, azValidation, []string{"weight"}},
			{"unknown top-level field", map[string]any{"policies": []any{good}, "mode": "merge"}, azValidation, []string{"mode"}},
			{"malformed JSON", `{"policies": [`, []int{http.StatusBadRequest}, nil},
		} {
			r := c.do(t, "PUT", "/policies", tc.body)
			t.Run(tc.name, func(t *testing.T) { assertProblemIn(t, r, tc.statuses, tc.mention...) })
		}
		// An oversized set is a clear 4xx too.
		huge := make([]any, 20001)
		for i := range huge {
			huge[i] = azRule("role:ops", fmt.Sprintf("host:h%d", i), "read", "allow")
		}
		assertProblemIn(t, c.do(t, "PUT", "/policies", map[string]any{"policies": huge}),
			[]int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity})
		azAssertUnchanged(t, "a refused PUT /policies", before, azSnapshot(t, c))
		azExpect(t, srv, admin, olga, "restore", "backup", "1", false)
		azExpect(t, srv, admin, olga, "read", "database", "dev", true)

		// An empty set removes every custom rule.
		c.do(t, "PUT", "/policies", map[string]any{"policies": []any{}}).expect(t, http.StatusOK)
		azExpect(t, srv, admin, olga, "read", "server", "1", false)
		azExpect(t, srv, admin, olga, "read", "database", "dev", false)
		c.get(t, "/users").expect(t, http.StatusOK)
	})
}

// csvLines parses a Casbin policy CSV into normalized lines ("p, a, b, c"),
// sorted, without trailing empty fields.
func azCSVLines(t *testing.T, data []byte) []string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(string(data)))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, data)
	}
	var out []string
	for _, rec := range recs {
		for len(rec) > 0 && strings.TrimSpace(rec[len(rec)-1]) == "" {
			rec = rec[:len(rec)-1]
		}
		if len(rec) == 0 {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		out = append(out, strings.Join(rec, ", "))
	}
	sort.Strings(out)
	return out
}

// TestAuthzCSVRoundTrip: export as Casbin CSV, wipe, import, and get the same
// rules and decisions back; a bad CSV imports nothing.
func TestAuthzCSVRoundTrip(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	azCreateRole(t, c, "reader")
	azCreateRole(t, c, "writer")
	rita := createUser(t, srv, "rita@example.com", "rita-password-12", "writer")

	azAllow(t, c, "role:reader", "book:*", "read")
	azDeny(t, c, "role:reader", "book:forbidden", "read")
	azAllow(t, c, "role:writer", "book:*", "write")
	// A condition with a comma and quotes must survive the CSV quoting.
	azCreatePolicy(t, c, map[string]any{"subject": "role:writer", "resource": "book:*", "action": "publish", "effect": "allow",
		"condition": "r.ctx.channel == 'web' && ipMatch(r.ctx.ip, '10.0.0.0/8')"})
	azAllow(t, c, "user:"+rita, "manuscript:1", "*")
	c.do(t, "PUT", "/roles/writer/parents/reader", nil).expect(t, http.StatusNoContent, http.StatusOK, http.StatusCreated)

	pub := func(ip string) map[string]any {
		b := azEvalReq(rita, "publish", "book", "1")
		b["context"] = map[string]any{"channel": "web", "ip": ip}
		return b
	}
	check := func(stage string, want bool) {
		t.Helper()
		for _, tc := range []struct {
			action, typ, id string
			want            bool
		}{
			{"read", "book", "1", want},
			{"read", "book", "forbidden", false},
			{"write", "book", "1", want},
			{"edit", "manuscript", "1", want},
		} {
			if got := azCan(t, srv, admin, rita, tc.action, tc.typ, tc.id); got != tc.want {
				t.Errorf("%s: %s %s:%s = %v, want %v", stage, tc.action, tc.typ, tc.id, got, tc.want)
			}
		}
		if got := azEvaluate(t, srv, admin, pub("10.1.2.3")); got != want {
			t.Errorf("%s: publish from 10.1.2.3 = %v, want %v", stage, got, want)
		}
		if got := azEvaluate(t, srv, admin, pub("192.168.1.1")); got {
			t.Errorf("%s: publish from 192.168.1.1 allowed", stage)
		}
	}
	check("before export", true)

	r := c.get(t, "/policies/export").expect(t, http.StatusOK)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		t.Errorf("export Content-Type = %q, want text/csv", r.Header.Get("Content-Type"))
	}
	exported := r.Body
	lines := azCSVLines(t, exported)
	for _, want := range []string{
		"p, role:reader, book:*, read, allow",
		"p, role:reader, book:forbidden, read, deny",
		"p, role:writer, book:*, write, allow",
		"p, role:writer, book:*, publish, allow, r.ctx.channel == 'web' && ipMatch(r.ctx.ip, '10.0.0.0/8')",
		"p, user:" + rita + ", manuscript:1, *, allow",
		"g, role:writer, role:reader",
	} {
		if !contains(lines, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	beforeRules := map[string]bool{}
	for _, p := range azListPolicies(t, c) {
		beforeRules[p.rule()] = true
	}

	// Wipe the custom rules and the inheritance edge.
	c.do(t, "PUT", "/policies", map[string]any{"policies": []any{}}).expect(t, http.StatusOK)
	c.do(t, "DELETE", "/roles/writer/parents/reader", nil).expect(t, http.StatusNoContent, http.StatusOK)
	check("after wiping", false)

	// Import restores everything.
	azRawDo(t, c, "POST", "/policies/import", "text/csv", exported).expect(t, http.StatusOK, http.StatusCreated, http.StatusNoContent)
	check("after import", true)
	afterRules := map[string]bool{}
	for _, p := range azListPolicies(t, c) {
		afterRules[p.rule()] = true
	}
	if fmt.Sprint(azSortedKeys(beforeRules)) != fmt.Sprint(azSortedKeys(afterRules)) {
		t.Errorf("rules after the round trip differ:\nbefore %v\nafter  %v", azSortedKeys(beforeRules), azSortedKeys(afterRules))
	}
	again := azCSVLines(t, c.get(t, "/policies/export").expect(t, http.StatusOK).Body)
	if strings.Join(again, "\n") != strings.Join(lines, "\n") {
		t.Errorf("second export differs from the first:\nfirst:\n%s\nsecond:\n%s", strings.Join(lines, "\n"), strings.Join(again, "\n"))
	}
	// Importing the same file twice is idempotent.
	azRawDo(t, c, "POST", "/policies/import", "text/csv", exported).expect(t, http.StatusOK, http.StatusCreated, http.StatusNoContent)
	check("after a second import", true)

	// A bad CSV imports nothing, whatever line is wrong.
	before := azSnapshot(t, c)
	for name, body := range map[string]string{
		"bad effect":          string(exported) + "p, role:reader, book:*, borrow, perhaps\n",
		"bad resource":        "p, role:reader, magazine:*, read, allow\np, role:reader, magazine, read, allow\n",
		"unknown line type":   "p, role:reader, magazine:*, read, allow\nq, role:reader, magazine:*, read, allow\n",
		"too few fields":      "p, role:reader, magazine:*, read, allow\np, role:reader, magazine:*\n",
		"condition not parse": "p, role:reader, magazine:*, read, allow\np, role:reader, magazine:*, read, allow, \"r.ctx.x ==\"\n",
		"unterminated quote":  "p, role:reader, magazine:*, read, allow\np, \"role:reader, magazine:*, read, allow\n",
	} {
		r := azRawDo(t, c, "POST", "/policies/import", "text/csv", []byte(body))
		t.Run(name, func(t *testing.T) { assertProblemIn(t, r, azValidation) })
	}
	azAssertUnchanged(t, "a refused import", before, azSnapshot(t, c))
	azExpect(t, srv, admin, rita, "read", "magazine", "1", false)
	check("after refused imports", true)
}

func azSortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package identity_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// mailed is a Check that the request queued exactly the mails want
// ("template to", in order), or none.
func mailed(m *fakeMailer, want ...string) func(*testing.T, testutil.Response) {
	return func(t *testing.T, _ testutil.Response) {
		t.Helper()
		got := m.take()
		var names []string
		for _, s := range got {
			names = append(names, s.Template+" "+s.To)
		}
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Fatalf("mailed %v, want %v", names, want)
		}
	}
}

// TestInvitationsAPI: POST /api/v1/invitations needs users:create and, for
// each role, the right to give it without escalation (and for a
// re-invitation, every right the invitee holds); a refused or invalid
// request stores and mails nothing.
func TestInvitationsAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, m := newMailService(t, db, testutil.NewClock(time.Now()))
		f := newAPIFixtureOn(t, db, svc)
		m.take() // nothing so far, but be sure
		none := mailed(m)
		f.api.Run(t,
			testutil.Scenario{Name: "no credential", Method: "POST", Path: "/invitations", Body: `{"email":"ivy@example.com"}`,
				WantStatus: 401, Unchanged: true, Check: none},
			testutil.Scenario{Name: "plain user may not invite", Method: "POST", Path: "/invitations", Token: "alice",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 403, WantContains: []string{"may not create"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "auditor may not invite", Method: "POST", Path: "/invitations", Token: "auditor",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 403, Unchanged: true, Check: none},
			testutil.Scenario{Name: "admin invites", Method: "POST", Path: "/invitations", Token: "admin",
				Body:       `{"email":"Ivy@Example.com","name":"Ivy","roles":["auditor"]}`,
				WantStatus: 201, WantContains: []string{`"email":"Ivy@Example.com"`, `"roles":["auditor"]`, `"email_verified":false`},
				Check: mailed(m, "invite Ivy@Example.com")},
			testutil.Scenario{Name: "admin re-invites", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 200, WantContains: []string{`"email":"Ivy@Example.com"`, `"roles":["auditor"]`},
				Check: mailed(m, "invite Ivy@Example.com")},
			testutil.Scenario{Name: "a user with a password is not invited", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"alice@example.com"}`, WantStatus: 409, WantContains: []string{"body.email"}, Unchanged: true, Check: none},
			// No escalation.
			testutil.Scenario{Name: "user-admin may not invite an auditor", Method: "POST", Path: "/invitations", Token: "uadmin",
				Body: `{"email":"aud@example.com","roles":["auditor"]}`, WantStatus: 403, WantContains: []string{"rights you do not hold"},
				Unchanged: true, Check: none},
			testutil.Scenario{Name: "user-admin may not invite an admin", Method: "POST", Path: "/invitations", Token: "uadmin",
				Body: `{"email":"adm@example.com","roles":["admin"]}`, WantStatus: 403, Unchanged: true, Check: none},
			testutil.Scenario{Name: "user-admin may not re-invite an auditor", Method: "POST", Path: "/invitations", Token: "uadmin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 403, WantContains: []string{"rights you do not hold"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "user-admin invites a user-admin", Method: "POST", Path: "/invitations", Token: "uadmin",
				Body: `{"email":"ua@example.com","roles":["user-admin"]}`, WantStatus: 201, WantContains: []string{`"roles":["user-admin"]`},
				Check: mailed(m, "invite ua@example.com")},
			// Invalid requests.
			testutil.Scenario{Name: "bad email", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"not an email"}`, WantStatus: 422, WantContains: []string{"body.email"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "missing email", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"name":"X"}`, WantStatus: 422, WantContains: []string{"email"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "unknown role", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"r@example.com","roles":["wizard"]}`, WantStatus: 422, WantContains: []string{"body.roles"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "unknown field", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"r@example.com","password":"correct horse battery staple"}`, WantStatus: 422, WantContains: []string{"password"},
				Unchanged: true, Check: none},
		)
	})
}

// TestEmailVerificationAPI: POST /api/v1/users/{id}/email-verification
// mails a link to one's own address; another user's needs users:update
// (and is refused, mailing nothing, without it).
func TestEmailVerificationAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, m := newMailService(t, db, testutil.NewClock(time.Now()))
		f := newAPIFixtureOn(t, db, svc)
		none := mailed(m)
		f.api.Run(t,
			testutil.Scenario{Name: "no credential", Method: "POST", Path: "/users/{alice}/email-verification",
				WantStatus: 401, Unchanged: true, Check: none},
			testutil.Scenario{Name: "own account", Method: "POST", Path: "/users/{alice}/email-verification", Token: "alice",
				WantStatus: 202, Check: mailed(m, "verify alice@example.com")},
			testutil.Scenario{Name: "another user's", Method: "POST", Path: "/users/{bob}/email-verification", Token: "alice",
				WantStatus: 403, WantContains: []string{"may not update"}, Unchanged: true, Check: none},
			testutil.Scenario{Name: "auditor only reads", Method: "POST", Path: "/users/{bob}/email-verification", Token: "auditor",
				WantStatus: 403, Unchanged: true, Check: none},
			testutil.Scenario{Name: "read-only key, own account", Method: "POST", Path: "/users/{alice}/email-verification", Token: "alice-readonly",
				WantStatus: 403, Unchanged: true, Check: none},
			testutil.Scenario{Name: "user-admin, another user's", Method: "POST", Path: "/users/{bob}/email-verification", Token: "uadmin",
				WantStatus: 202, Check: mailed(m, "verify bob@example.com")},
			testutil.Scenario{Name: "unknown user", Method: "POST", Path: "/users/0190c3a0-0000-7000-8000-000000000000/email-verification", Token: "admin",
				WantStatus: 404, Unchanged: true, Check: none},
		)
	})
}

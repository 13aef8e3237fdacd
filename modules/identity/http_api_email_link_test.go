package identity_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestInvitationLinkWithoutSMTP: without a mail server, POST
// /api/v1/invitations answers the invitation link (new and re-invited
// users), and it sets a password; a refused request answers no link.
func TestInvitationLinkWithoutSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newRealMailService(t, db, nil)
		f := newAPIFixtureOn(t, db, svc)
		var links []string
		link := func(t *testing.T, res testutil.Response) {
			t.Helper()
			var body struct{ ID, Link string }
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(body.Link, "https://id.example.test/password/reset?token=") || body.ID == "" {
				t.Fatalf("answer %s: no invitation link", res.Body)
			}
			links = append(links, body.Link)
		}
		f.api.Run(t,
			testutil.Scenario{Name: "invite", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 201, Check: link},
			testutil.Scenario{Name: "re-invite", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 200, Check: link},
			testutil.Scenario{Name: "refused", Method: "POST", Path: "/invitations", Token: "alice",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 403, WantAbsent: []string{"token="}, Unchanged: true},
		)
		if len(links) != 2 || links[0] == links[1] {
			t.Fatalf("links %v", links)
		}
		ctx := context.Background()
		if _, err := svc.SetPasswordWithLink(ctx, tokenOf(t, links[0]), goodPassword); err == nil {
			t.Fatal("the first link still works after the re-invitation")
		}
		if _, err := svc.SetPasswordWithLink(ctx, tokenOf(t, links[1]), goodPassword); err != nil {
			t.Fatalf("set a password with the answered link: %v", err)
		}
		if _, err := svc.VerifyPassword(ctx, "ivy@example.com", goodPassword); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		doc := f.api.Do(t, "GET", "/openapi.json", "", "")
		if !strings.Contains(doc.Body, "Present only when no mail server is configured") {
			t.Error("the OpenAPI document does not describe the link field")
		}
	})
}

// TestInvitationLinkWithSMTP: with a mail server the answer has no link;
// the link goes only to the user's mailbox.
func TestInvitationLinkWithSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		srv := testutil.NewSMTPServer(t)
		svc, m := newRealMailService(t, db, srv)
		f := newAPIFixtureOn(t, db, svc)
		f.api.Run(t,
			testutil.Scenario{Name: "invite", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 201, WantContains: []string{`"email":"ivy@example.com"`},
				WantAbsent: []string{`"link"`, "token="}},
			testutil.Scenario{Name: "re-invite", Method: "POST", Path: "/invitations", Token: "admin",
				Body: `{"email":"ivy@example.com"}`, WantStatus: 200, WantAbsent: []string{`"link"`, "token="}},
		)
		if n, err := m.DeliverDue(context.Background()); err != nil || n != 2 {
			t.Fatalf("delivered %d, %v", n, err)
		}
		got := srv.WaitFor(2, 5*time.Second)
		if len(got) != 2 || mailedLink.FindString(got[1].Body) == "" {
			t.Fatalf("mails %+v", got)
		}
	})
}

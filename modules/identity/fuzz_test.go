package identity_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// FuzzCreateUserDecode sends arbitrary bodies to POST /api/v1/users through
// the real server: decoding and validation must never fail with a 5xx, a
// rejected body must change nothing, and an accepted one must produce a user
// that reads back with the contract's shape.
func FuzzCreateUserDecode(f *testing.F) {
	for _, seed := range []string{
		`{"email":"fuzz@example.com","name":"Fuzz"}`,
		`{"email":"FUZZ2@Example.com","username":"fz.2","password":"correct horse battery staple","roles":["auditor"]}`,
		`{"email":"bot@example.com","machine":true}`,
		`{"email":"bot2@example.com","machine":true,"password":"correct horse battery staple"}`,
		`{"email":"a@b"}`,
		`{"email":"<a@b.c>"}`,
		`{"email":"a@b.c","name":"\u0000"}`,
		`{"email":"a@b.c","username":"-x-"}`,
		`{"email":"a@b.c","roles":["admin","Admin"," "]}`,
		`{"email":"a@b.c","password":"\ud800\udc00\ud800"}`,
		`{"email":"` + strings.Repeat("a", 300) + `"}`,
		`{"email":null}`,
		`{"email":["x"]}`,
		`{"email":"x@example.com","extra":1}`,
		`{"email":"x@example.com",}`,
		`[]`,
		`null`,
		``,
		`{"email":"x@example.com","roles":null}`,
		`{"email":"x@example.com","email_verified":"yes"}`,
	} {
		f.Add(seed)
	}
	db := testutil.NewSQLite(f)
	fx := newAPIFixture(f, db)
	f.Fuzz(func(t *testing.T, body string) {
		fx.t = t
		before := fx.fingerprint()
		status, hdr, resp := fx.do("POST", "/users", body, "admin")
		switch status {
		case http.StatusCreated:
			var u struct {
				ID, Email, Username, Name, Status string
				Roles                             []string
			}
			if err := json.Unmarshal([]byte(resp), &u); err != nil || u.ID == "" || u.Status != "active" || u.Roles == nil {
				t.Fatalf("created %s (%v)", resp, err)
			}
			if st, _, got := fx.do("GET", "/users/"+u.ID, "", "admin"); st != 200 || !strings.Contains(got, u.ID) {
				t.Fatalf("created user does not read back: %d %s", st, got)
			}
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("status %d with content type %q", status, hdr.Get("Content-Type"))
			}
			if after := fx.fingerprint(); after != before {
				t.Fatalf("rejected body %q changed state", body)
			}
		default:
			t.Fatalf("body %q: status %d: %s", body, status, resp)
		}
	})
}

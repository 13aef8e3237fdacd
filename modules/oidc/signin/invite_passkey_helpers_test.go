package signin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"golang.org/x/net/html"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// The invitation tests run the real identity, mail (its outbox) and
// passkeys services on the test's database, behind the pages on a real
// HTTP server; a software authenticator answers the ceremonies as a
// browser at the relying party's origin would.
const inviteIssuer = "https://id.example.com"

var inviteRP = virtualwebauthn.RelyingParty{ID: "id.example.com", Name: "Gatehouse", Origin: inviteIssuer}

type inviteEnv struct {
	*pagesTestEnv
	clock *testutil.Clock // identity's and passkeys' clock
	ids   *identity.Service
	keys  *passkeys.Service
}

func newInviteEnv(t *testing.T, db database.DB, configure ...func(*Config)) *inviteEnv {
	t.Helper()
	clock := testutil.NewClock(time.Now())
	auditSvc := audit.New(db)
	mailer, err := mail.New(db, mail.Options{Issuer: inviteIssuer, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(db, identity.Deps{Audit: auditSvc, Mailer: mailer}, identity.Options{Issuer: inviteIssuer, Now: clock.Now})
	keys, err := passkeys.New(db, passkeys.Deps{Users: ids, Audit: auditSvc, Notifier: mailer}, passkeys.Options{RPOrigin: inviteIssuer, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := newPagesTestEnvOn(t, db, append([]func(*Config){func(c *Config) {
		c.Users, c.Recovery, c.Passkeys = ids, ids, keys
	}}, configure...)...)
	return &inviteEnv{pagesTestEnv: e, clock: clock, ids: ids, keys: keys}
}

var linkToken = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`)

// lastToken is the token of the newest link mailed to address.
func (e *inviteEnv) lastToken(to string) string {
	e.t.Helper()
	tok := ""
	for _, m := range testutil.Outbox(e.t, e.db) {
		if sm := linkToken.FindStringSubmatch(m.Body); m.To == to && sm != nil {
			tok = sm[1]
		}
	}
	if tok == "" {
		e.t.Fatalf("no link mailed to %s", to)
	}
	return tok
}

// invite invites email and returns the user and the mailed token.
func (e *inviteEnv) invite(email string) (identity.User, string) {
	e.t.Helper()
	u, err := e.ids.InviteUser(context.Background(), identity.NewUser{Email: email, Name: "Invited " + email})
	if err != nil {
		e.t.Fatalf("invite %s: %v", email, err)
	}
	return u.User, e.lastToken(email)
}

func (e *inviteEnv) passkeyCount(userID string) int {
	e.t.Helper()
	l, err := e.keys.List(context.Background(), userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(l)
}

func (e *inviteEnv) user(id string) identity.User {
	e.t.Helper()
	u, err := e.ids.UserByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// linkPage opens the link page of token; it returns the page and its
// "Add passkey" button (nil when the page offers none).
func (b *testBrowser) linkPage(token string) (testPage, *html.Node) {
	b.t.Helper()
	pg := b.get("/password/reset?token=" + url.QueryEscape(token))
	if pg.doc == nil {
		return pg, nil
	}
	return pg, buttonNamed(pg.doc, "Add passkey")
}

// csrfOf is the page's CSRF token (its meta, else its form field).
func csrfOf(t *testing.T, pg testPage) string {
	t.Helper()
	for _, n := range htmlFindAll(pg.doc, func(n *html.Node) bool {
		return (n.Data == "meta" && htmlAttr(n, "name") == "csrf-token") || (n.Data == "input" && htmlAttr(n, "name") == "csrf_token")
	}) {
		if v := htmlAttr(n, "content") + htmlAttr(n, "value"); v != "" {
			return v
		}
	}
	t.Fatal("no CSRF token on the page")
	return ""
}

// begin posts what passkeys.js posts to begin; it returns the answer and,
// on 200, the ceremony.
func (b *testBrowser) begin(path, csrf, token string) (testPage, passkeys.Ceremony) {
	b.t.Helper()
	pg := b.post(path, url.Values{"csrf_token": {csrf}, "token": {token}})
	var c passkeys.Ceremony
	if pg.status == http.StatusOK {
		if err := json.Unmarshal([]byte(pg.body), &c); err != nil || c.Handle == "" {
			b.t.Fatalf("begin answered %s (%v)", pg.body, err)
		}
	}
	return pg, c
}

// device is a software authenticator with one P-256 credential.
type device struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newDevice(t *testing.T, userID string) *device {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		// virtualwebauthn drops leading zeros of the coordinates, which
		// go-webauthn rightly refuses: use a key without them.
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return &device{
			auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(userID)}),
			cred: virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der),
		}
	}
}

// attest answers creation options as a browser at rp would.
func (d *device) attest(t *testing.T, rp virtualwebauthn.RelyingParty, c passkeys.Ceremony) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(string(c.Options))
	if err != nil {
		t.Fatalf("creation options: %v\n%s", err, c.Options)
	}
	d.auth.AddCredential(d.cred)
	return virtualwebauthn.CreateAttestationResponse(rp, d.auth, d.cred, *o)
}

// assert answers request options as a browser at rp would.
func (d *device) assert(t *testing.T, c passkeys.Ceremony) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(string(c.Options))
	if err != nil {
		t.Fatalf("request options: %v\n%s", err, c.Options)
	}
	d.cred.Counter++
	return virtualwebauthn.CreateAssertionResponse(inviteRP, d.auth, d.cred, *o)
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

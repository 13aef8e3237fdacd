package passkeys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

var start = time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)

const issuer = "https://id.example.com"

// rp is the relying party as a correct browser reports it.
var rp = virtualwebauthn.RelyingParty{ID: "id.example.com", Name: "Gatehouse", Origin: issuer}

// env is a real identity service, a real audit log and the passkeys service
// on one database, with a fake clock.
type env struct {
	db    database.DB
	clock *testutil.Clock
	users *identity.Service
	audit *audit.Service
	svc   *passkeys.Service
	ctx   context.Context
}

func newEnv(t testing.TB, db database.DB) *env {
	t.Helper()
	clock := testutil.NewClock(start)
	auditSvc := audit.New(db)
	users := identity.New(db, identity.Deps{Audit: auditSvc}, identity.Options{Now: clock.Now})
	// The real mail service queues notices in mail_outbox (nothing is
	// delivered: its worker does not run).
	mailer, err := mail.New(db, mail.Options{Issuer: issuer, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := passkeys.New(db, passkeys.Deps{Users: users, Audit: auditSvc, Notifier: mailer}, passkeys.Options{RPOrigin: issuer, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	users.AddListener(svc)
	return &env{db: db, clock: clock, users: users, audit: auditSvc, svc: svc, ctx: context.Background()}
}

// device is a software authenticator holding one credential for a user.
type device struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newDevice(userID string) *device {
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
		UserHandle: []byte(userID), BackupEligible: true, BackupState: true,
	})
	return &device{auth: auth, cred: newCredential()}
}

// newCredential is a P-256 credential whose public coordinates are 32 bytes
// long: virtualwebauthn encodes them without leading zeros, which
// go-webauthn rightly refuses (about one key in 128 would fail).
func newCredential() virtualwebauthn.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

// attest answers creation options as a browser at party would.
func (d *device) attest(t testing.TB, party virtualwebauthn.RelyingParty, c passkeys.Ceremony) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(c.Options))
	if err != nil {
		t.Fatalf("parse creation options: %v\n%s", err, c.Options)
	}
	return []byte(virtualwebauthn.CreateAttestationResponse(party, d.auth, d.cred, *opts))
}

// assert answers request options as a browser at party would, after
// advancing the authenticator's counter by one.
func (d *device) assert(t testing.TB, party virtualwebauthn.RelyingParty, c passkeys.Ceremony) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(c.Options))
	if err != nil {
		t.Fatalf("parse request options: %v\n%s", err, c.Options)
	}
	d.cred.Counter++
	return []byte(virtualwebauthn.CreateAssertionResponse(party, d.auth, d.cred, *opts))
}

func (e *env) user(t testing.TB, email string) identity.User {
	t.Helper()
	u, err := e.users.CreateUser(e.ctx, identity.NewUser{Email: email, Name: "Test " + email})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// register adds a passkey for u with a new device and returns both.
func (e *env) register(t testing.TB, u identity.User) (*device, passkeys.Passkey) {
	t.Helper()
	d := newDevice(u.ID)
	c, err := e.svc.BeginRegistration(e.ctx, u.ID)
	if err != nil {
		t.Fatalf("begin registration: %v", err)
	}
	pk, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c))
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	d.auth.AddCredential(d.cred)
	return d, pk
}

// login signs in with d through a usernameless ceremony.
func (e *env) login(t testing.TB, d *device) (passkeys.LoginResult, error) {
	t.Helper()
	c, err := e.svc.BeginLogin(e.ctx)
	if err != nil {
		t.Fatalf("begin login: %v", err)
	}
	return e.svc.FinishLogin(e.ctx, c.Handle, d.assert(t, rp, c))
}

// snapshot is every stored passkey, to show that a refusal changed nothing.
func (e *env) snapshot(t testing.TB) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := e.db.Gorm.Table("passkeys_credentials").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func (e *env) unchanged(t testing.TB, before []map[string]any) {
	t.Helper()
	if after := e.snapshot(t); !reflect.DeepEqual(before, after) {
		t.Errorf("stored passkeys changed:\nbefore %v\nafter  %v", before, after)
	}
}

// events returns the audit events with action, newest first.
func (e *env) events(t testing.TB, action string) []audit.Event {
	t.Helper()
	ctx := principal.With(e.ctx, principal.SystemPrincipal)
	p, err := e.audit.List(ctx, audit.Filter{Action: action, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func (e *env) count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := e.db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) countWhere(t testing.TB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.Gorm.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var emails atomic.Int64

// uniqueEmail names a new user in a database shared by subtests.
func uniqueEmail() string { return fmt.Sprintf("user%d@example.com", emails.Add(1)) }

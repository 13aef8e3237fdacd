package passkeys_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// BenchmarkFinishRegistration is the server's time to verify an attestation
// response and store the passkey (SQLite; begin and the authenticator's work
// are outside the timer).
func BenchmarkFinishRegistration(b *testing.B) {
	e := newEnv(b, testutil.NewSQLite(b))
	u := e.user(b, uniqueEmail())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		d := newDevice(u.ID)
		c, err := e.svc.BeginRegistration(e.ctx, u.ID)
		if err != nil {
			b.Fatal(err)
		}
		body := d.attest(b, rp, c)
		b.StartTimer()
		if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinishLogin is the server's time to verify an assertion and
// record the use (SQLite; begin and signing are outside the timer).
func BenchmarkFinishLogin(b *testing.B) {
	e := newEnv(b, testutil.NewSQLite(b))
	u := e.user(b, uniqueEmail())
	d, _ := e.register(b, u)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c, err := e.svc.BeginLogin(e.ctx)
		if err != nil {
			b.Fatal(err)
		}
		body := d.assert(b, rp, c)
		b.StartTimer()
		if _, err := e.svc.FinishLogin(e.ctx, c.Handle, body); err != nil {
			b.Fatal(err)
		}
	}
}

package passkeys_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

func (e *env) disable(t testing.TB, u identity.User) {
	t.Helper()
	st := identity.StatusDisabled
	if _, err := e.users.UpdateUser(e.ctx, u.ID, identity.UserUpdate{Status: &st}); err != nil {
		t.Fatal(err)
	}
}

func failures(e *env, t testing.TB, action string) int {
	n := 0
	for _, ev := range e.events(t, action) {
		if ev.Outcome == audit.Failure {
			n++
		}
	}
	return n
}

// TestRegistrationRefused: each bad finish is refused with its sentinel,
// stores nothing, spends the handle and is audited.
func TestRegistrationRefused(t *testing.T) {
	cases := []struct {
		name string
		// finish runs the bad finish for user u with a fresh device and
		// ceremony c, and returns its error.
		finish func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error
		want   error
	}{
		{"wrong origin", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, wrongParty("https://evil.example.net", ""), c))
			return err
		}, passkeys.ErrVerification},
		{"wrong RP ID", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, wrongParty("", "evil.example.net"), c))
			return err
		}, passkeys.ErrVerification},
		{"user not verified", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			d.auth.Options.UserNotVerified = true
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c))
			return err
		}, passkeys.ErrVerification},
		{"malformed body", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", []byte(`{"id":"x","type":"public-key","response":{}}`))
			return err
		}, passkeys.ErrVerification},
		{"expired", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			e.clock.Advance(passkeys.DefaultChallengeTTL + time.Second)
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c))
			return err
		}, passkeys.ErrChallengeExpired},
		{"another user's ceremony", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			other := e.user(t, uniqueEmail())
			_, err := e.svc.FinishRegistration(e.ctx, other.ID, c.Handle, "", d.attest(t, rp, c))
			return err
		}, passkeys.ErrChallengeUnknown},
		{"unknown handle", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle+"x", "", d.attest(t, rp, c))
			return err
		}, passkeys.ErrChallengeUnknown},
		{"disabled user", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			e.disable(t, u)
			_, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c))
			return err
		}, passkeys.ErrUserDisabled},
	}
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, db)
				u := e.user(t, uniqueEmail())
				d := newDevice(u.ID)
				c, err := e.svc.BeginRegistration(e.ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				before, audited := e.snapshot(t), failures(e, t, "passkey.register")
				err = tc.finish(t, e, u, d, c)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				t.Logf("refused: %v", err)
				e.unchanged(t, before)
				if failures(e, t, "passkey.register") != audited+1 {
					t.Error("refusal not audited")
				}
				if tc.want != passkeys.ErrChallengeUnknown && e.countWhere(t, "passkeys_challenges", "user_id = ?", u.ID) != 0 {
					t.Error("the refused ceremony is still usable")
				}
			})
		}
		t.Run("replay", func(t *testing.T) {
			e := newEnv(t, db)
			u := e.user(t, uniqueEmail())
			d := newDevice(u.ID)
			c, _ := e.svc.BeginRegistration(e.ctx, u.ID)
			body := d.attest(t, rp, c)
			if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", body); err != nil {
				t.Fatal(err)
			}
			before := e.snapshot(t)
			if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "Again", body); !errors.Is(err, passkeys.ErrChallengeUnknown) {
				t.Fatalf("replay: %v", err)
			}
			e.unchanged(t, before)
		})
		t.Run("disabled user cannot begin", func(t *testing.T) {
			e := newEnv(t, db)
			u := e.user(t, uniqueEmail())
			e.disable(t, u)
			if _, err := e.svc.BeginRegistration(e.ctx, u.ID); !errors.Is(err, passkeys.ErrUserDisabled) {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

// TestLoginRefused: each bad sign-in is refused with its sentinel, leaves
// every stored passkey as it was, spends the handle and is audited.
func TestLoginRefused(t *testing.T) {
	type tcase struct {
		name   string
		finish func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error
		want   error
		action string // audit action of the refusal
	}
	fin := func(e *env, c passkeys.Ceremony, body []byte) error {
		_, err := e.svc.FinishLogin(e.ctx, c.Handle, body)
		return err
	}
	cases := []tcase{
		{"wrong origin", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			return fin(e, c, d.assert(t, wrongParty("https://id.example.com:8443", ""), c))
		}, passkeys.ErrVerification, ""},
		{"wrong RP ID", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			return fin(e, c, d.assert(t, wrongParty("", "example.com"), c))
		}, passkeys.ErrVerification, ""},
		{"user not verified", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			d.auth.Options.UserNotVerified = true
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrVerification, ""},
		{"expired", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			e.clock.Advance(passkeys.DefaultChallengeTTL)
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrChallengeExpired, ""},
		{"unknown credential", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			return fin(e, c, newDevice(u.ID).assert(t, rp, c))
		}, passkeys.ErrUnknownCredential, ""},
		{"user handle of another user", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			other := e.user(t, uniqueEmail())
			d.auth.Options.UserHandle = []byte(other.ID)
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrVerification, ""},
		{"signature of another key", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			forged := newDevice(u.ID)
			forged.cred.ID = d.cred.ID
			return fin(e, c, forged.assert(t, rp, c))
		}, passkeys.ErrVerification, ""},
		{"counter goes backwards", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			d.cred.Counter = 2 // the stored count is 5: a copy of the key that fell behind
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrCloned, "passkey.clone_suspected"},
		{"counter repeats", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			d.cred.Counter = 4
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrCloned, "passkey.clone_suspected"},
		{"disabled user", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			e.disable(t, u)
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrUserDisabled, ""},
		{"malformed body", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			return fin(e, c, []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30"}}`))
		}, passkeys.ErrVerification, ""},
		{"unknown handle", func(t *testing.T, e *env, u identity.User, d *device, c passkeys.Ceremony) error {
			c.Handle = "not-a-handle"
			return fin(e, c, d.assert(t, rp, c))
		}, passkeys.ErrChallengeUnknown, ""},
	}
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, db)
				u := e.user(t, uniqueEmail())
				d, _ := e.register(t, u)
				d.cred.Counter = 4
				if _, err := e.login(t, d); err != nil { // stored count: 5
					t.Fatal(err)
				}
				c, err := e.svc.BeginLogin(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				action := tc.action
				if action == "" {
					action = "passkey.login"
				}
				before, audited := e.snapshot(t), failures(e, t, action)
				err = tc.finish(t, e, u, d, c)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				t.Logf("refused: %v", err)
				e.unchanged(t, before)
				if failures(e, t, action) != audited+1 {
					t.Errorf("refusal not audited as %s", action)
				}
				if tc.want == passkeys.ErrChallengeUnknown {
					return
				}
				// The handle is spent: the right answer no longer works.
				d.auth.Options.UserNotVerified = false
				d.auth.Options.UserHandle = []byte(u.ID)
				d.cred.Counter = 100
				if _, err := e.svc.FinishLogin(e.ctx, c.Handle, d.assert(t, rp, c)); !errors.Is(err, passkeys.ErrChallengeUnknown) {
					t.Errorf("retry after a refusal: %v, want ErrChallengeUnknown", err)
				}
			})
		}
		t.Run("replay", func(t *testing.T) {
			e := newEnv(t, db)
			u := e.user(t, uniqueEmail())
			d, _ := e.register(t, u)
			c, _ := e.svc.BeginLogin(e.ctx)
			body := d.assert(t, rp, c)
			if _, err := e.svc.FinishLogin(e.ctx, c.Handle, body); err != nil {
				t.Fatal(err)
			}
			before := e.snapshot(t)
			if _, err := e.svc.FinishLogin(e.ctx, c.Handle, body); !errors.Is(err, passkeys.ErrChallengeUnknown) {
				t.Fatalf("replay: %v", err)
			}
			e.unchanged(t, before)
		})
	})
}

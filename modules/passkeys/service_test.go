package passkeys_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

func TestRegisterThenLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		u := e.user(t, "ada@example.com")
		if has, err := e.svc.HasPasskey(e.ctx, u.ID); err != nil || has {
			t.Fatalf("HasPasskey before = %v, %v", has, err)
		}
		d, pk := e.register(t, u)
		if pk.UserID != u.ID || pk.Name != passkeys.DefaultName || !pk.BackupEligible || !pk.UserVerified || pk.CredentialID == "" {
			t.Errorf("registered %+v", pk)
		}
		if pk.AAGUID == "" || pk.LastUsedAt != nil || !pk.CreatedAt.Equal(start) {
			t.Errorf("registered %+v", pk)
		}
		if has, err := e.svc.HasPasskey(e.ctx, u.ID); err != nil || !has {
			t.Fatalf("HasPasskey after = %v, %v", has, err)
		}

		e.clock.Advance(time.Minute)
		res, err := e.login(t, d)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if res.UserID != u.ID || res.Passkey.ID != pk.ID || !res.UserVerified || res.Passkey.SignCount != 1 {
			t.Errorf("login result %+v", res)
		}
		list, err := e.svc.List(e.ctx, u.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %v, %v", list, err)
		}
		if got := list[0]; got.SignCount != 1 || got.LastUsedAt == nil || !got.LastUsedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("after login %+v", got)
		}
		if n := e.count(t, "passkeys_challenges"); n != 0 {
			t.Errorf("%d ceremonies left after finishing both", n)
		}
		if ev := e.events(t, "passkey.register"); len(ev) != 1 || ev[0].Outcome != audit.Success {
			t.Errorf("register events %+v", ev)
		}
		if ev := e.events(t, "passkey.login"); len(ev) != 1 || ev[0].Actor.ID != u.ID || ev[0].Outcome != audit.Success {
			t.Errorf("login events %+v", ev)
		}
		// A second sign-in moves the counter on.
		if res, err := e.login(t, d); err != nil || res.Passkey.SignCount != 2 {
			t.Errorf("second login %+v, %v", res, err)
		}
	})
}

func TestReauth(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")
		if _, err := e.svc.BeginReauth(e.ctx, ada.ID); !errors.Is(err, passkeys.ErrNotFound) {
			t.Fatalf("reauth without passkey: %v, want ErrNotFound", err)
		}
		dAda, pk := e.register(t, ada)
		dBob, _ := e.register(t, bob)
		c, err := e.svc.BeginReauth(e.ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(c.Options), pk.CredentialID) {
			t.Errorf("allowCredentials lacks ada's passkey: %s", c.Options)
		}
		// Bob's passkey cannot confirm Ada's session.
		bobOpts := c
		before := e.snapshot(t)
		if _, err := e.svc.FinishLogin(e.ctx, bobOpts.Handle, dBob.assert(t, rp, bobOpts)); !errors.Is(err, passkeys.ErrVerification) {
			t.Fatalf("bob confirming ada: %v", err)
		}
		e.unchanged(t, before)
		c, _ = e.svc.BeginReauth(e.ctx, ada.ID)
		res, err := e.svc.FinishLogin(e.ctx, c.Handle, dAda.assert(t, rp, c))
		if err != nil || res.UserID != ada.ID {
			t.Fatalf("reauth: %+v, %v", res, err)
		}
	})
}

func TestRegistrationNames(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		u := e.user(t, "ada@example.com")
		d := newDevice(u.ID)
		copy(d.auth.Aaguid[:], []byte{0xfb, 0xfc, 0x30, 0x07, 0x15, 0x4e, 0x4e, 0xcc, 0x8c, 0x0b, 0x6e, 0x02, 0x05, 0x57, 0xd7, 0xbd})
		c, _ := e.svc.BeginRegistration(e.ctx, u.ID)
		pk, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d.attest(t, rp, c))
		if err != nil || pk.Name != "iCloud Keychain" {
			t.Fatalf("AAGUID name: %+v, %v", pk, err)
		}
		d2 := newDevice(u.ID)
		c, _ = e.svc.BeginRegistration(e.ctx, u.ID)
		if !strings.Contains(string(c.Options), pk.CredentialID) {
			t.Errorf("excludeCredentials lacks the existing passkey: %s", c.Options)
		}
		if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "bad\x00name", d2.attest(t, rp, c)); !errors.Is(err, &validation.Error{}) && !strings.Contains(err.Error(), "name") {
			t.Errorf("control character in name: %v", err)
		}
		pk2, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "  Laptop  ", d2.attest(t, rp, c))
		if err != nil || pk2.Name != "Laptop" {
			t.Fatalf("given name: %+v, %v", pk2, err)
		}
		// The same credential again is refused.
		c, _ = e.svc.BeginRegistration(e.ctx, u.ID)
		if _, err := e.svc.FinishRegistration(e.ctx, u.ID, c.Handle, "", d2.attest(t, rp, c)); !errors.Is(err, passkeys.ErrDuplicate) {
			t.Errorf("duplicate: %v", err)
		}
	})
}

func TestRenameRemove(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")
		d, pk := e.register(t, ada)
		if _, err := e.svc.Rename(e.ctx, bob.ID, pk.ID, "Mine"); !errors.Is(err, passkeys.ErrNotFound) {
			t.Errorf("rename someone else's: %v", err)
		}
		if _, err := e.svc.Rename(e.ctx, ada.ID, pk.ID, " "); err == nil {
			t.Error("blank name accepted")
		}
		got, err := e.svc.Rename(e.ctx, ada.ID, pk.ID, "Phone")
		if err != nil || got.Name != "Phone" {
			t.Fatalf("rename: %+v, %v", got, err)
		}
		if err := e.svc.Remove(e.ctx, bob.ID, pk.ID); !errors.Is(err, passkeys.ErrNotFound) {
			t.Errorf("remove someone else's: %v", err)
		}
		if err := e.svc.Remove(e.ctx, ada.ID, pk.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Remove(e.ctx, ada.ID, pk.ID); !errors.Is(err, passkeys.ErrNotFound) {
			t.Errorf("remove twice: %v", err)
		}
		if _, err := e.login(t, d); !errors.Is(err, passkeys.ErrUnknownCredential) {
			t.Errorf("login with a removed passkey: %v", err)
		}
		if len(e.events(t, "passkey.rename")) != 1 || len(e.events(t, "passkey.remove")) != 1 {
			t.Error("rename or removal not audited")
		}
	})
}

func TestUserDeletedRemovesPasskeys(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")
		e.register(t, ada)
		e.register(t, ada)
		e.register(t, bob)
		if _, err := e.svc.BeginRegistration(e.ctx, ada.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.users.DeleteUser(e.ctx, ada.ID); err != nil {
			t.Fatal(err)
		}
		if l, _ := e.svc.List(e.ctx, ada.ID); len(l) != 0 {
			t.Errorf("ada's passkeys survive her deletion: %v", l)
		}
		if l, _ := e.svc.List(e.ctx, bob.ID); len(l) != 1 {
			t.Errorf("bob's passkeys: %v", l)
		}
		if n := e.count(t, "passkeys_challenges"); n != 0 {
			t.Errorf("%d ceremonies of a deleted user remain", n)
		}
	})
}

func TestConcurrentFinishes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newEnv(t, db)
		u := e.user(t, "ada@example.com")
		d, _ := e.register(t, u)
		c, _ := e.svc.BeginLogin(e.ctx)
		body := d.assert(t, rp, c)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = e.svc.FinishLogin(e.ctx, c.Handle, body) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, passkeys.ErrChallengeUnknown) {
				t.Errorf("loser: %v, want ErrChallengeUnknown", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent finishes succeeded, want 1", ok)
		}
	})
}

// wrongParty returns rp with one field changed.
func wrongParty(origin, id string) virtualwebauthn.RelyingParty {
	p := rp
	if origin != "" {
		p.Origin = origin
	}
	if id != "" {
		p.ID = id
	}
	return p
}

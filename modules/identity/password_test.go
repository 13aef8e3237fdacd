package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
)

func TestPHCRoundTrip(t *testing.T) {
	h := newHasher(Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 0)
	ctx := context.Background()
	enc, err := h.hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=64,t=1,p=1" {
		t.Fatalf("PHC string %q", enc)
	}
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16 and 32 bytes, unpadded base64
		t.Fatalf("salt/hash lengths in %q", enc)
	}
	ok, rehash, err := h.verify(ctx, "correct horse battery staple", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	ok, _, err = h.verify(ctx, "correct horse battery stapLe", enc)
	if err != nil || ok {
		t.Fatalf("wrong password verified: %v %v", ok, err)
	}
	again, _ := h.hash(ctx, "correct horse battery staple")
	if again == enc {
		t.Fatal("salt not random")
	}
	// Default parameters are OWASP's.
	if d := newHasher(Argon2Params{}, 0).params; d != (Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}) {
		t.Fatalf("defaults %+v", d)
	}
}

func TestRehashWhenParametersChange(t *testing.T) {
	ctx := context.Background()
	old := newHasher(Argon2Params{MemoryKiB: 32, Time: 1, Threads: 1}, 0)
	enc, _ := old.hash(ctx, "pw-for-upgrade")
	cur := newHasher(Argon2Params{MemoryKiB: 64, Time: 2, Threads: 1}, 0)
	ok, rehash, err := cur.verify(ctx, "pw-for-upgrade", enc)
	if err != nil || !ok || !rehash {
		t.Fatalf("old hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, rehash, _ = cur.verify(ctx, "wrong", enc)
	if ok || rehash {
		t.Fatal("wrong password must not ask for a rehash")
	}
}

func TestMalformedHashes(t *testing.T) {
	h := newHasher(Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 0)
	for _, enc := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$",
		"$bcrypt$2a$10$abcdefghijklmnopqrstuu",
	} {
		if _, _, err := h.verify(context.Background(), "x", enc); !errors.Is(err, errMalformedHash) {
			t.Errorf("verify(%q) err = %v", enc, err)
		}
	}
}

func TestHashConcurrencyIsBounded(t *testing.T) {
	h := newHasher(Argon2Params{MemoryKiB: 256, Time: 1, Threads: 1}, 2)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			h.release()
		}()
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("%d hashes ran at once, limit 2", peak.Load())
	}
	// A caller whose request ended stops waiting.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.hash(ctx, "whatever-password"); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash with a full semaphore and a canceled ctx: %v", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		pw      string
		context []string
		ok      bool
	}{
		{"correct horse battery staple", nil, true},
		{"Tr0ub4dor&3x", nil, true},
		{"ünïcødé-pässwörd", nil, true},
		{"short", nil, false},
		{"1234567", nil, false},
		{strings.Repeat("a", 257), nil, false},
		{strings.Repeat("ab1", 86), nil, false},      // 258 characters
		{spaced('€', 256), nil, true},                // 256 chars, 768 bytes
		{strings.Repeat("😀", 256) + "x", nil, false}, // over both limits
		{"password", nil, false},
		{"Password1", nil, false},
		{"PASSWORD123", nil, false},
		{"iloveyou1", nil, false},
		{"qwertyuiop", nil, false},
		{"aaaaaaaaaaaa", nil, false},
		{"abcabcabcabc", nil, false},
		{"1212121212", nil, false},
		{"12345678901234", nil, false},
		{"zyxwvutsrq", nil, false},
		{"9876543210987", nil, false},
		{"gatehouse", nil, false},
		{"Gatehouse2024!", nil, false},
		{"alice@example.com", []string{"alice@example.com", "alice"}, false},
		{"Alice.Smith", []string{"x@example.com", "x", "alice.smith"}, false},
		{"alice.smith99", []string{"x@example.com", "x", "alice.smith"}, false},
		{"invalid\xffutf8", nil, false},
	} {
		err := CheckPassword(c.pw, c.context...)
		if (err == nil) != c.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", c.pw, err, c.ok)
		}
		var ve *validation.Error
		if err != nil && (!errors.As(err, &ve) || ve.Field != "password") {
			t.Errorf("CheckPassword(%q) error %v is not a password ValidationError", c.pw, err)
		}
	}
}

func TestCommonPasswordListIsLarge(t *testing.T) {
	isCommonPassword("x")
	if len(commonSet) < 10000 {
		t.Fatalf("only %d common passwords embedded", len(commonSet))
	}
	for _, pw := range []string{"password", "12345678", "baseball", "trustno1", "football"} {
		if !isCommonPassword(pw) {
			t.Errorf("%q not in the list", pw)
		}
	}
}

// BenchmarkHashPassword measures one argon2id hash at the default
// parameters (OWASP: 19 MiB, t=2, p=1): the cost of every sign-in.
func BenchmarkHashPassword(b *testing.B) {
	h := newHasher(Argon2Params{}, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPassword measures a verification (sign-in) at the defaults.
func BenchmarkVerifyPassword(b *testing.B) {
	h := newHasher(Argon2Params{}, 0)
	ctx := context.Background()
	enc, _ := h.hash(ctx, "correct horse battery staple")
	for b.Loop() {
		if ok, _, err := h.verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// spaced returns n characters from start, two code points apart, so the
// string is neither a repetition nor a straight run.
func spaced(start rune, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(start + rune(2*i))
	}
	return b.String()
}

// After a burst of hashes the memory is handed back once, when the last one
// has finished and none started for burstIdle.
func TestHasherReturnsMemoryAfterBurst(t *testing.T) {
	h := newHasher(Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 2)
	h.burstIdle = 50 * time.Millisecond
	calls := make(chan struct{}, 10)
	h.afterBurst = func() { calls <- struct{}{} }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.hash(context.Background(), "a password"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("memory not returned after the burst")
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(calls); n != 0 {
		t.Errorf("returned %d more times after one burst", n)
	}
	if got, want := h.memoryBytes(), int64(2*64*1024); got != want {
		t.Errorf("memoryBytes = %d, want %d", got, want)
	}
}

package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters (RFC 9106). The defaults are
// OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is used when Options leave the parameters zero.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// errMalformedHash: a stored hash is not an argon2id PHC string we can read.
var errMalformedHash = errors.New("identity: malformed password hash")

// hasher hashes and verifies passwords. A semaphore bounds how many argon2
// computations run at once: each takes MemoryKiB of memory, so a burst of
// sign-ins queues instead of exhausting the process's memory.
type hasher struct {
	params Argon2Params
	sem    chan struct{}

	// afterBurst, when set, runs once burstIdle has passed since the last
	// computation of a burst ended with none running (returnMemory).
	afterBurst func()
	burstIdle  time.Duration
	mu         sync.Mutex
	active     int
	idle       *time.Timer
}

// burstIdle is how long after a burst of hashes the memory is handed back.
const burstIdle = 5 * time.Second

func newHasher(p Argon2Params, concurrency int) *hasher {
	if p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		p = DefaultArgon2
	}
	if concurrency <= 0 {
		concurrency = 2 * runtime.GOMAXPROCS(0)
	}
	return &hasher{params: p, sem: make(chan struct{}, concurrency), burstIdle: burstIdle}
}

// memoryBytes is what the hashes running at once can hold (at the current
// parameters).
func (h *hasher) memoryBytes() int64 { return int64(h.params.MemoryKiB) * 1024 * int64(cap(h.sem)) }

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.afterBurst != nil {
		h.mu.Lock()
		h.active++
		if h.idle != nil {
			h.idle.Stop()
		}
		h.mu.Unlock()
	}
	return nil
}

func (h *hasher) release() {
	<-h.sem
	if h.afterBurst == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active--; h.active > 0 {
		return
	}
	if h.idle == nil {
		h.idle = time.AfterFunc(h.burstIdle, h.afterBurst)
	} else {
		h.idle.Reset(h.burstIdle)
	}
}

// returnMemory hands the heap freed by a burst of hashes back to the
// operating system: each argon2id computation allocates MemoryKiB (19 MiB by
// default) and the runtime would otherwise keep the pages for minutes.
// debug.FreeOSMemory costs one GC of the (small) live heap per burst.
func returnMemory() { debug.FreeOSMemory() }

// hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, keyLen)
	h.release()
	return encodePHC(h.params, salt, key), nil
}

// verify checks password against a PHC string in constant time. needsRehash
// is true when the hash was made with other parameters than the current
// ones, so the caller can store a fresh hash after a successful sign-in.
func (h *hasher) verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params || len(salt) < saltLen || len(want) < keyLen, nil
}

func encodePHC(p Argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses $argon2id$v=19$m=..,t=..,p=..$salt$hash. Parameters are
// bounded so a tampered row cannot make a verification take minutes or
// gigabytes.
func decodePHC(s string) (Argon2Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	var p Argon2Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil || n != 3 {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return Argon2Params{}, nil, nil, errMalformedHash
	}
	return p, salt, key, nil
}

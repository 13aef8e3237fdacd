package apikeys

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
)

// An API key looks like
//
//	gh_<public id: 16 base62>_<secret: 43 base62><checksum: 6 base62>
//
// e.g. gh_4fT0aZ9qLm2Xc8Rb_… (69 characters). The public id names the key
// row (it is stored in clear and shown in lists); the secret carries 256 bits
// of entropy (43 characters drawn uniformly from 62) and only its SHA-256 is
// stored. The checksum is the CRC-32 (IEEE) of everything before it, so a
// mistyped or truncated key is rejected by ParseKey without a database read,
// and secret scanners can recognise real keys (GitHub's token format does the
// same).
const (
	// Prefix starts every key; the bearer authenticator dispatches on it.
	Prefix      = "gh_"
	publicIDLen = 16
	secretLen   = 43
	checksumLen = 6
	// KeyLen is the length of every well-formed key.
	KeyLen = len(Prefix) + publicIDLen + 1 + secretLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrMalformedKey is returned by ParseKey for anything that is not a
// well-formed key with a correct checksum.
var ErrMalformedKey = errors.New("apikeys: malformed API key")

// ParsedKey is a key split into its parts. Secret is never logged or stored.
type ParsedKey struct {
	PublicID string
	Secret   string
}

// ParseKey checks the shape and checksum of s; the parts it returns are
// substrings of s. It never touches the database.
func ParseKey(s string) (ParsedKey, error) {
	if len(s) != KeyLen || s[:len(Prefix)] != Prefix {
		return ParsedKey{}, ErrMalformedKey
	}
	pub := s[len(Prefix) : len(Prefix)+publicIDLen]
	if s[len(Prefix)+publicIDLen] != '_' {
		return ParsedKey{}, ErrMalformedKey
	}
	rest := s[len(Prefix)+publicIDLen+1:]
	secret, sum := rest[:secretLen], rest[secretLen:]
	if !isBase62(pub) || !isBase62(secret) {
		return ParsedKey{}, ErrMalformedKey
	}
	want, ok := decodeChecksum(sum)
	if !ok || crc32.ChecksumIEEE([]byte(s[:KeyLen-checksumLen])) != want {
		return ParsedKey{}, ErrMalformedKey
	}
	return ParsedKey{PublicID: pub, Secret: secret}, nil
}

// String reassembles the key (with its checksum).
func (k ParsedKey) String() string {
	body := Prefix + k.PublicID + "_" + k.Secret
	return body + encodeChecksum(crc32.ChecksumIEEE([]byte(body)))
}

// hashSecret is what the store keeps: SHA-256 of the secret part.
func hashSecret(secret string) [sha256.Size]byte {
	return sha256.Sum256([]byte(secret))
}

// newKey draws a fresh public id and secret from crypto/rand.
func newKey() (ParsedKey, error) {
	pub, err := randomBase62(publicIDLen)
	if err != nil {
		return ParsedKey{}, err
	}
	secret, err := randomBase62(secretLen)
	if err != nil {
		return ParsedKey{}, err
	}
	return ParsedKey{PublicID: pub, Secret: secret}, nil
}

// randomBase62 returns n characters drawn uniformly from base62: bytes of
// 248 or more are rejected so that byte % 62 has no bias.
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if base62Value(s[i]) < 0 {
			return false
		}
	}
	return true
}

// base62Values maps a byte to its base62 digit value, or -1.
var base62Values = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = int8(i)
	}
	return t
}()

func base62Value(c byte) int { return int(base62Values[c]) }

// encodeChecksum writes v as 6 base62 digits, most significant first
// (62^6 > 2^32, so every uint32 fits).
func encodeChecksum(v uint32) string {
	var b [checksumLen]byte
	x := uint64(v)
	for i := checksumLen - 1; i >= 0; i-- {
		b[i] = base62[x%62]
		x /= 62
	}
	return string(b[:])
}

func decodeChecksum(s string) (uint32, bool) {
	var x uint64
	for i := 0; i < len(s); i++ {
		d := base62Value(s[i])
		if d < 0 {
			return 0, false
		}
		x = x*62 + uint64(d)
	}
	if x > 0xFFFFFFFF {
		return 0, false
	}
	return uint32(x), true
}

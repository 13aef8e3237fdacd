// Package secret holds the one copy of the oidc module's helpers for random
// secrets: how they are made (Token) and how they are stored (Hash).
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// Token returns n random bytes, base64url without padding.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics itself).
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how random secrets (client secrets, codes, refresh tokens)
// are stored: hex SHA-256. They carry ≥256 bits of entropy, so a slow hash
// would add latency and no security.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// EqualHash compares two hex hashes in constant time.
func EqualHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

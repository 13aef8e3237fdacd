package provider

import (
	"bytes"
	"testing"

	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

func TestSealer(t *testing.T) {
	s, err := newSealer(oidctest.MasterKey(t))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal([]byte("secret key"), []byte("ad-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), []byte("secret")) {
		t.Fatal("plaintext visible")
	}
	if pt, err := s.open(sealed, []byte("ad-1")); err != nil || string(pt) != "secret key" {
		t.Errorf("open = %q, %v", pt, err)
	}
	if _, err := s.open(sealed, []byte("ad-2")); err == nil {
		t.Errorf("opened with other associated data")
	}
	other, _ := newSealer(oidctest.MasterKey(t))
	if _, err := other.open(sealed, []byte("ad-1")); err == nil {
		t.Errorf("opened with another master key")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Errorf("short master key accepted")
	}
}

// TestSealerOpensStoredKeys pins the at-rest format: a value sealed by an
// earlier release (AES-256-GCM under the master key itself, no derivation,
// base64(nonce || ciphertext), the row binding as associated data) must
// still open, so a refactoring cannot strand encrypted signing keys.
func TestSealerOpensStoredKeys(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const stored = "WNlMSR/4lrkfMmuUTF5GfYvh+rov1Hnled7AlMqNRm5tTHcoMDrmDBleZuUN8cTUqQ=="
	pt, err := s.open(stored, []byte("signing-key:k1"))
	if err != nil || string(pt) != "gatehouse signing key" {
		t.Fatalf("open(stored) = %q, %v", pt, err)
	}
}

package oidc

import (
	"bytes"
	"testing"
)

func TestSealer(t *testing.T) {
	s, err := newSealer(testMasterKey(t))
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
	other, _ := newSealer(testMasterKey(t))
	if _, err := other.open(sealed, []byte("ad-1")); err == nil {
		t.Errorf("opened with another master key")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Errorf("short master key accepted")
	}
	if a, b := randomToken(32), randomToken(32); a == b || len(a) != 43 {
		t.Errorf("randomToken: %q %q", a, b)
	}
	if !equalHash(hashSecret("x"), hashSecret("x")) || equalHash(hashSecret("x"), hashSecret("y")) {
		t.Errorf("equalHash")
	}
}

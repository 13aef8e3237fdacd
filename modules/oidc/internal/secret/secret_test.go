package secret

import "testing"

func TestTokenAndHash(t *testing.T) {
	if a, b := Token(32), Token(32); a == b || len(a) != 43 {
		t.Errorf("Token: %q %q", a, b)
	}
	if !EqualHash(Hash("x"), Hash("x")) || EqualHash(Hash("x"), Hash("y")) {
		t.Errorf("EqualHash")
	}
	// The stored form of every random secret: existing rows must still match.
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", got)
	}
}

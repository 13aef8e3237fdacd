package apikeys

import (
	"strings"
	"testing"
)

func TestNewKeyRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		k, err := newKey()
		if err != nil {
			t.Fatal(err)
		}
		s := k.String()
		if len(s) != KeyLen || !strings.HasPrefix(s, "gh_") {
			t.Fatalf("key %q has length %d", s, len(s))
		}
		got, err := ParseKey(s)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", s, err)
		}
		if got != k {
			t.Fatalf("round trip: got %+v, want %+v", got, k)
		}
		if seen[k.PublicID] || seen[k.Secret] {
			t.Fatal("random parts repeat")
		}
		seen[k.PublicID], seen[k.Secret] = true, true
	}
}

func TestParseKeyRejectsTypos(t *testing.T) {
	k, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	good := k.String()
	// Every single-character substitution within the alphabet must fail the
	// checksum (CRC-32 detects every single-symbol error).
	for i := len(Prefix); i < len(good); i++ {
		if good[i] == '_' {
			continue
		}
		for _, c := range []byte("0aZ9") {
			if c == good[i] {
				continue
			}
			typo := good[:i] + string(c) + good[i+1:]
			if _, err := ParseKey(typo); err == nil {
				t.Fatalf("typo at %d accepted: %q", i, typo)
			}
		}
	}
	// Transpositions of adjacent different characters.
	for i := len(Prefix); i+1 < len(good); i++ {
		if good[i] == good[i+1] || good[i] == '_' || good[i+1] == '_' {
			continue
		}
		b := []byte(good)
		b[i], b[i+1] = b[i+1], b[i]
		if _, err := ParseKey(string(b)); err == nil {
			t.Fatalf("transposition at %d accepted", i)
		}
	}
	bad := []string{
		"",
		"gh_",
		good[:len(good)-1],
		good + "0",
		"GH" + good[2:],
		"gx" + good[2:],
		strings.Replace(good, "_", "-", 2),
		good[:len(Prefix)+publicIDLen] + "x" + good[len(Prefix)+publicIDLen+1:],
		good[:20] + "!" + good[21:],
		good[:KeyLen-checksumLen] + "zzzzzz", // > 2^32
		"Bearer " + good,
	}
	for _, s := range bad {
		if _, err := ParseKey(s); err == nil {
			t.Fatalf("ParseKey(%q) accepted", s)
		}
	}
}

func TestChecksumEncoding(t *testing.T) {
	for _, v := range []uint32{0, 1, 61, 62, 0xFFFFFFFF, 123456789} {
		s := encodeChecksum(v)
		got, ok := decodeChecksum(s)
		if len(s) != checksumLen || !ok || got != v {
			t.Fatalf("checksum %d -> %q -> %d, %v", v, s, got, ok)
		}
	}
}

// FuzzParseKey checks that ParseKey never panics, accepts only strings that
// are exactly the reassembled key, and that accepted parts are base62.
func FuzzParseKey(f *testing.F) {
	k, _ := newKey()
	f.Add(k.String())
	f.Add("gh_0000000000000000_0000000000000000000000000000000000000000000000000")
	f.Add(ParsedKey{PublicID: strings.Repeat("a", publicIDLen), Secret: strings.Repeat("Z", secretLen)}.String())
	f.Add("gh_")
	f.Add("")
	f.Add("gh_" + strings.Repeat("_", KeyLen-3))
	f.Add(strings.Repeat("\xff", KeyLen))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseKey(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("accepted %q but reassembles to %q", s, p.String())
		}
		if len(p.PublicID) != publicIDLen || len(p.Secret) != secretLen || !isBase62(p.PublicID) || !isBase62(p.Secret) {
			t.Fatalf("accepted parts %+v", p)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	k, _ := newKey()
	s := k.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseKey(s); err != nil {
			b.Fatal(err)
		}
	}
}

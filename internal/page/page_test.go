package page

import (
	"errors"
	"strconv"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	tok := Encode("2026-01-01T00:00:00Z", "0193-id")
	got, err := Decode(tok, 2)
	if err != nil || got[0] != "2026-01-01T00:00:00Z" || got[1] != "0193-id" {
		t.Fatalf("Decode(Encode) = %q, %v", got, err)
	}
	for name, bad := range map[string]string{
		"not base64":  "!!!",
		"wrong parts": Encode("only-one"),
		"empty part":  Encode("", "x"),
		"too long":    string(make([]byte, maxTokenLen+1)),
	} {
		if _, err := Decode(bad, 2); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: err = %v, want ErrBadToken", name, err)
		}
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[int]int{0: DefaultSize, 1: 1, MaxSize: MaxSize} {
		if got, err := Size(in); err != nil || got != want {
			t.Errorf("Size(%d) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []int{-1, MaxSize + 1} {
		if _, err := Size(bad); !errors.Is(err, ErrBadSize) {
			t.Errorf("Size(%d): err = %v, want ErrBadSize", bad, err)
		}
	}
}

func TestCutKeepsSizeAndPointsPastLastKept(t *testing.T) {
	rows := []int{1, 2, 3}
	key := func(r int) []string { return []string{strconv.Itoa(r)} }
	p := Cut(rows, 2, key, strconv.Itoa)
	if len(p.Items) != 2 || p.Items[1] != "2" {
		t.Fatalf("items = %v", p.Items)
	}
	if got, _ := Decode(p.NextPageToken, 1); got[0] != "2" {
		t.Fatalf("cursor = %v, want the last kept row", got)
	}
	last := Cut(rows[:2], 2, key, strconv.Itoa)
	if last.NextPageToken != "" || last.Items == nil {
		t.Fatalf("last page: %+v", last)
	}
	empty := Cut([]int{}, 2, key, strconv.Itoa)
	if empty.Items == nil {
		t.Fatal("an empty page must encode items as [], not null")
	}
}

// FuzzDecode: a page token comes from the query string; Decode never panics
// and accepts only what Encode could have made.
func FuzzDecode(f *testing.F) {
	// "00" and "000A00\r0" were found by fuzzing: non-canonical base64 and a
	// CR the decoder would skip.
	for _, seed := range []string{"", "!!", Encode("a"), Encode("2026-01-01T00:00:00Z", "id"), "AAAA", "00", "000A00\r0"} {
		f.Add(seed, 2)
	}
	f.Fuzz(func(t *testing.T, token string, n int) {
		if n < 1 || n > 4 {
			return
		}
		parts, err := Decode(token, n)
		if err != nil {
			return
		}
		if len(parts) != n || Encode(parts...) != token {
			t.Fatalf("Decode(%q, %d) = %q, which does not encode back", token, n, parts)
		}
	})
}

package netaddr

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // prefixes joined by " "
		wantErr string
	}{
		{in: "", want: ""},
		{in: " , ,", want: ""},
		{in: "127.0.0.1", want: "127.0.0.1/32"},
		{in: "10.0.0.0/8, 192.0.2.7 ,::1", want: "10.0.0.0/8 192.0.2.7/32 ::1/128"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "fd00::/8,2001:DB8::1", want: "fd00::/8 2001:db8::1/128"},
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "proxy.internal", wantErr: `"proxy.internal"`},
		{in: "10.0.0.1,nope", wantErr: `"nope"`},
		{in: "10.0.0.0/33", wantErr: `"10.0.0.0/33"`},
		{in: "10.0.0.0/", wantErr: `"10.0.0.0/"`},
		{in: "fe80::1%eth0", wantErr: "zone"},
		{in: "fe80::%eth0/64", wantErr: `"fe80::%eth0/64"`},
		{in: "::ffff:0.0.0.0/64", wantErr: "/96"},
		{in: "[::1]", wantErr: `"[::1]"`},
		{in: "10.0.0.1:80", wantErr: `"10.0.0.1:80"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePrefixes(%q) = %v, %v; want an error containing %s", tc.in, got, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q spans lines", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefixes(%q): %v", tc.in, err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tc.want {
				t.Errorf("ParsePrefixes(%q) = %v, want %s", tc.in, s, tc.want)
			}
		})
	}
}

func TestRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"127.0.0.1":                 "127.0.0.1",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::1": "2001:db8:1:2::/64",
		"2001:DB8:1:2::":            "2001:db8:1:2::/64",
		"2001:db8:1:3::1":           "2001:db8:1:3::/64",
		"::1":                       "::/64",
		"fe80::1%eth0":              "fe80::/64",
		"":                          "",
		"not-an-ip":                 "not-an-ip",
		"192.0.2.7:1234":            "192.0.2.7:1234",
	} {
		if got := RateKey(in); got != want {
			t.Errorf("RateKey(%q) = %q, want %q", in, got, want)
		}
	}
	// Two addresses of one /64 share a key; the next /64 does not.
	if RateKey("2001:db8::a") != RateKey("2001:db8::ffff:ffff:ffff:ffff") || RateKey("2001:db8::a") == RateKey("2001:db8:0:1::a") {
		t.Error("RateKey does not aggregate IPv6 to /64")
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":        "192.0.2.7",
		"::ffff:192.0.2.7": "192.0.2.7",
		"2001:DB8::0:1":    "2001:db8::1",
		"fe80::1%eth0":     "fe80::1",
		"junk":             "junk",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParsePrefixes: the parser never panics, and what it accepts is masked,
// never IPv4-mapped, and parses again to the same list.
func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{"", "127.0.0.1", "10.0.0.0/8, ::1", "::ffff:10.0.0.0/104", "fe80::1%eth0", "1.2.3.4/", ",,", "2001:db8::/129"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePrefixes(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		var parts []string
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("ParsePrefixes(%q) returned %v", s, p)
			}
			parts = append(parts, p.String())
		}
		again, err := ParsePrefixes(strings.Join(parts, ","))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("re-parsing %v: %v, %v", parts, again, err)
		}
		for i := range again {
			if again[i] != ps[i] {
				t.Fatalf("re-parsing %v gave %v", parts, again)
			}
		}
	})
}

// FuzzRateKey: a key is the input's IPv4 form or an IPv6 /64 that contains
// it, and keying a key's own address again gives the same key.
func FuzzRateKey(f *testing.F) {
	for _, s := range []string{"192.0.2.7", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%lo", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := RateKey(s)
		a, err := netip.ParseAddr(s)
		if err != nil {
			if k != s {
				t.Fatalf("RateKey(%q) = %q, want the input back", s, k)
			}
			return
		}
		a = a.WithZone("").Unmap()
		if a.Is4() {
			if k != a.String() {
				t.Fatalf("RateKey(%q) = %q", s, k)
			}
			return
		}
		p, err := netip.ParsePrefix(k)
		if err != nil || p.Bits() != IPv6RateBits || !p.Contains(a) {
			t.Fatalf("RateKey(%q) = %q, want the /64 holding it", s, k)
		}
		if RateKey(p.Addr().String()) != k {
			t.Fatalf("RateKey is not stable on %q", k)
		}
	})
}

package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/netaddr"
	"github.com/gatehouse/gatehouse/internal/principal"
)

func mustPrefixes(t testing.TB, list string) []netip.Prefix {
	t.Helper()
	ps, err := netaddr.ParsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestClientIPExtractor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted string
		peer    string   // RemoteAddr
		xff     []string // X-Forwarded-For header lines
		want    string
	}{
		{"no list, no header", "", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"no list ignores XFF", "", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		{"no list ignores XFF from loopback", "", "127.0.0.1:5000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"no list ignores XFF from a private peer", "", "10.0.0.2:5000", []string{"198.51.100.7"}, "10.0.0.2"},
		{"trusted peer without header", "127.0.0.1", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"trusted peer: client from XFF", "127.0.0.1", "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"trusted peer: right-most untrusted wins over spoofed left entries", "127.0.0.1", "127.0.0.1:5000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted hops", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.9, 198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"header lines are joined in order", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.9", "198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"peer not in list: XFF ignored", "127.0.0.1", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"},
		// echo trusts loopback and private ranges by default; the contract
		// trusts only the listed ones.
		{"unlisted loopback peer is not trusted", "10.0.0.1", "127.0.0.1:5000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"unlisted private peer is not trusted", "127.0.0.1", "192.168.1.1:5000", []string{"198.51.100.7"}, "192.168.1.1"},
		{"unlisted link-local peer is not trusted", "127.0.0.1", "169.254.1.1:5000", []string{"198.51.100.7"}, "169.254.1.1"},
		{"private client behind a trusted proxy is the client", "127.0.0.1", "127.0.0.1:5000", []string{"10.9.8.7"}, "10.9.8.7"},
		{"a loopback entry is a client when loopback is not listed", "10.0.0.1", "10.0.0.1:5000", []string{"127.0.0.1"}, "127.0.0.1"},
		{"unparseable entry right of the client: the peer", "127.0.0.1", "127.0.0.1:5000", []string{"198.51.100.7, unknown"}, "127.0.0.1"},
		{"unparseable entry left of the client is not read", "127.0.0.1", "127.0.0.1:5000", []string{"garbage, 198.51.100.7"}, "198.51.100.7"},
		{"every hop trusted: the left-most", "127.0.0.1, 10.0.0.0/8", "127.0.0.1:5000", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"IPv4-mapped client is written as IPv4", "127.0.0.1", "127.0.0.1:5000", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"IPv6 trusted peer, IPv6 client", "fd00::/8", "[fd00::2]:5000", []string{"2001:db8::1, fd00::1"}, "2001:db8::1"},
		{"IPv6 bracketed entry", "::1", "[::1]:5000", []string{"[2001:DB8::1]"}, "2001:db8::1"},
		{"IPv6 peer not in list", "fd00::/8", "[2001:db8::9]:5000", []string{"2001:db8::1"}, "2001:db8::9"},
		{"IPv6 list does not trust an IPv4 peer", "::/0", "127.0.0.1:5000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"IPv4-mapped peer matches an IPv4 range", "127.0.0.1", "[::ffff:127.0.0.1]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped peer without a list is written as IPv4", "", "[::ffff:192.0.2.1]:5000", nil, "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := httpserver.ClientIPExtractor(mustPrefixes(t, tc.trusted))(r)
			if got != tc.want {
				t.Errorf("trusted %q, peer %s, XFF %q: client = %q, want %q", tc.trusted, tc.peer, tc.xff, got, tc.want)
			}
		})
	}
}

// TestServerUsesTrustedProxies: the address requestContext hands to
// services (the audit log, sessions, limits) follows Options.TrustedProxies.
func TestServerUsesTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		trusted string
		want    string
	}{
		{"", "127.0.0.1"},
		{"127.0.0.1", "198.51.100.7"},
	} {
		s := httpserver.New(httpserver.Options{
			Logger:         logging.New("text", &lockedBuffer{}, 0),
			TrustedProxies: mustPrefixes(t, tc.trusted),
		})
		s.Routes.Public.GET("/ip", func(c echo.Context) error {
			return c.String(http.StatusOK, principal.RequestFrom(c.Request().Context()).IP)
		})
		r := httptest.NewRequest(http.MethodGet, "/ip", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", "203.0.113.1, 198.51.100.7")
		w := httptest.NewRecorder()
		s.Echo.ServeHTTP(w, r)
		if got := strings.TrimSpace(w.Body.String()); got != tc.want {
			t.Errorf("trusted %q: request IP = %q, want %q", tc.trusted, got, tc.want)
		}
	}
}

// FuzzClientIP feeds arbitrary peers and X-Forwarded-For values through the
// extractor with and without a trusted list. The client is always either
// the peer (canonical) or, only when the peer is trusted, an address that
// appears in the header; with no list it is always the peer; the result is
// canonical and its rate key is well formed.
func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1:5000", "198.51.100.7", "127.0.0.1")
	f.Add("127.0.0.1:5000", "1.1.1.1, 2.2.2.2,198.51.100.7", "127.0.0.1, 10.0.0.0/8")
	f.Add("[::1]:1", "[2001:db8::1], ::ffff:1.2.3.4", "::1")
	f.Add("[fd00::1]:1", "2001:db8::1%eth0, fd00::2", "fd00::/8")
	f.Add("10.0.0.1:80", ",,, ,", "10.0.0.0/8")
	f.Add("garbage", "198.51.100.7", "0.0.0.0/0")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, peer, xff, trusted string) {
		list, err := netaddr.ParsePrefixes(trusted)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		direct := netaddr.Canonical(echo.ExtractIPDirect()(r))

		if got := httpserver.ClientIPExtractor(nil)(r); got != direct {
			t.Fatalf("no list: peer %q XFF %q gave %q, want the peer %q", peer, xff, got, direct)
		}
		got := httpserver.ClientIPExtractor(list)(r)
		if got != direct {
			peerAddr, err := netip.ParseAddr(direct)
			if err != nil || !inAny(list, peerAddr) {
				t.Fatalf("untrusted peer %q (XFF %q, list %q) gave %q, want the peer", peer, xff, trusted, got)
			}
			if !inHeader(xff, got) {
				t.Fatalf("peer %q XFF %q list %q gave %q, which the header does not hold", peer, xff, trusted, got)
			}
		}
		if got == "" {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.Is4In6() || a.Zone() != "" || a.String() != got {
			if got == direct && err != nil {
				return // a peer that is not an address (only in tests) passes through
			}
			t.Fatalf("client %q is not a canonical address", got)
		}
		if k := netaddr.RateKey(got); k == "" || (a.Is6() && !strings.HasSuffix(k, "/64")) {
			t.Fatalf("RateKey(%q) = %q", got, k)
		}
	})
}

func inAny(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func inHeader(xff, ip string) bool {
	for _, e := range strings.Split(xff, ",") {
		e = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(e), "["), "]")
		if netaddr.Canonical(e) == ip {
			return true
		}
	}
	return false
}

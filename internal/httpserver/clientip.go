package httpserver

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/netaddr"
)

// ClientIPExtractor returns how the server finds a request's client address
// (echo's c.RealIP(), which requestContext hands to sign-in limits, sessions
// and the audit log) given the reverse proxies it trusts
// (GATEHOUSE_TRUSTED_PROXIES).
//
// With no trusted range the client is the TCP peer and X-Forwarded-For is
// ignored entirely. Otherwise X-Forwarded-For is read only when the peer is
// in a trusted range: walking from the right (the peer, then the entries
// each proxy appended), the first address not in a trusted range is the
// client; entries left of it are whatever the client sent and are never
// believed. An entry that is not an IP address stops the walk at the peer
// (echo's rule: a record that cannot be parsed cannot be trusted). When every
// address is trusted, the left-most entry is the best guess.
//
// Only the listed ranges are trusted: echo's XFF extractor trusts loopback,
// link-local and private addresses by default, which would let anyone on
// the same private network (or the host) name their own address; those
// defaults are switched off here.
//
// The result is canonical (IPv4-mapped IPv6 as IPv4, no zone), so one client
// is spelt one way in the audit log and in limit keys.
func ClientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		direct := echo.ExtractIPDirect()
		return func(r *http.Request) string { return netaddr.Canonical(direct(r)) }
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(ipNet(p)))
	}
	xff := echo.ExtractIPFromXFFHeader(opts...)
	return func(r *http.Request) string { return netaddr.Canonical(xff(r)) }
}

// ipNet converts a prefix to the *net.IPNet echo's trust options take.
func ipNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

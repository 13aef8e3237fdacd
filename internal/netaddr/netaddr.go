// Package netaddr holds the two small address rules Gatehouse applies to
// client addresses: parsing the list of trusted reverse proxies
// (GATEHOUSE_TRUSTED_PROXIES) and turning a client address into the key a
// per-address limit counts under.
package netaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParsePrefixes parses a comma-separated list of IP addresses and CIDR
// ranges ("10.0.0.0/8, 192.0.2.7, fd00::/8"). A single address becomes a
// range of one (/32 or /128); host bits after the prefix length are cleared
// ("10.1.2.3/8" is 10.0.0.0/8); an IPv4-mapped IPv6 entry becomes its IPv4
// form, so "::ffff:10.0.0.0/104" and "10.0.0.0/8" trust the same peers.
// Surrounding spaces and empty items are ignored. Host names, zones
// ("fe80::1%eth0") and anything else are errors naming the entry; the error
// is one line.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: an address with a zone cannot be trusted; leave out %%%s", s, a.Zone())
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped range must be /96 or longer", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// IPv6RateBits is the prefix length IPv6 clients are counted under. An ISP
// hands a subscriber at least a /64 and the host part is chosen freely
// (RFC 4291 §2.5.1, RFC 8981 temporary addresses), so counting single IPv6
// addresses would give one client 2^64 budgets.
const IPv6RateBits = 64

// RateKey is the key a per-address limit counts a client under: an IPv4
// address as it is ("192.0.2.7"), an IPv6 address as its /64 prefix
// ("2001:db8:1:2::/64"). An IPv4-mapped IPv6 address ("::ffff:192.0.2.7")
// counts as its IPv4 address, and a zone is dropped, so one client has one
// key however its address is spelt. A string that is not an IP address is
// returned unchanged (the caller still gets a stable key for it).
func RateKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, IPv6RateBits).Masked().String()
}

// Canonical returns ip in its canonical text form (IPv4-mapped addresses as
// IPv4, IPv6 compressed and lower case, no zone), or ip unchanged when it is
// not an IP address.
func Canonical(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return a.WithZone("").Unmap().String()
}

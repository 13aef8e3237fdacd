package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// TestSignInLimitIPv6Prefix: the per-address sign-in limit counts an IPv6
// client under its /64 (an ISP hands a subscriber at least a /64 and the
// host part is chosen freely, so single addresses would give one client
// 2^64 budgets). Through nginx with GATEHOUSE_TRUSTED_PROXIES (the client
// address comes from X-Forwarded-For), 60 sign-ins from 60 different
// addresses of one /64 use up its budget: the 61st, from yet another
// address of that /64, answers 429; another /64 still gets through.
func TestSignInLimitIPv6Prefix(t *testing.T) {
	t.Parallel()
	_, proxyURL := startBehindNginx(t, "127.0.0.1")
	for i := 1; i <= 60; i++ {
		from := fmt.Sprintf("2001:db8:7:1::%x", i)
		if st := failSignIn(t, proxyURL, "127.0.0.1", from, fmt.Sprintf("v6-%d-%s@example.com", i, randomHex(3))); st != http.StatusUnauthorized {
			t.Fatalf("attempt %d from %s answered %d, want 401", i, from, st)
		}
	}
	if st := failSignIn(t, proxyURL, "127.0.0.1", "2001:db8:7:1:abcd:ef01:2345:6789", "v6-last-"+randomHex(3)+"@example.com"); st != http.StatusTooManyRequests {
		t.Fatalf("the 61st sign-in from the /64 2001:db8:7:1::/64 (a new host part) answered %d, want 429", st)
	}
	if st := failSignIn(t, proxyURL, "127.0.0.1", "2001:db8:7:2::1", "v6-other-"+randomHex(3)+"@example.com"); st != http.StatusUnauthorized {
		t.Fatalf("a sign-in from another /64 answered %d, want 401", st)
	}
}

package clients

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
)

// IsRedirectOrigin reports whether origin (a browser's Origin header,
// scheme://host[:port]) is the origin of a redirect URI registered for any
// client: the provider allows cross-origin calls to its endpoints from
// those origins only. The set is cached like ClientByID (Options.CacheTTL;
// changes through this process are seen at once), so a flood of requests
// from unknown origins does not reach the database.
func (s *Service) IsRedirectOrigin(ctx context.Context, origin string) (bool, error) {
	set, err := s.origins.get(ctx, s.now(), s.store.redirectOrigins)
	if err != nil {
		return false, err
	}
	return set[strings.ToLower(origin)], nil
}

// originOf is the Web origin (RFC 6454) of an http(s) URI, as a browser
// writes it in Origin: lower case, without the default port; "" for other
// schemes (a native app's private-use scheme has no Web origin).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch scheme {
	case "https":
		host = strings.TrimSuffix(host, ":443")
	case "http":
		host = strings.TrimSuffix(host, ":80")
	default:
		return ""
	}
	return scheme + "://" + host
}

// redirectOrigins reads the origins of every client's redirect URIs.
func (s *clientStore) redirectOrigins(ctx context.Context) (map[string]bool, error) {
	var rows []clientRow
	if err := database.Conn(ctx, s.db).Select("id", "redirect_uris").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("oidc: read redirect URIs: %w", err)
	}
	set := map[string]bool{}
	for _, r := range rows {
		for _, u := range r.RedirectURIs {
			if o := originOf(u); o != "" {
				set[o] = true
			}
		}
	}
	return set, nil
}

// originCache holds the set of redirect origins for a TTL.
type originCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	set     map[string]bool
	expires time.Time
}

func (c *originCache) get(ctx context.Context, now time.Time, load func(context.Context) (map[string]bool, error)) (map[string]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set != nil && now.Before(c.expires) {
		return c.set, nil
	}
	set, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.set, c.expires = set, now.Add(c.ttl)
	return set, nil
}

func (c *originCache) invalidate() {
	c.mu.Lock()
	c.set = nil
	c.mu.Unlock()
}

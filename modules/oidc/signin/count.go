package signin

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/database"
)

// count returns how many sessions are live: before their absolute end and
// seen within the idle timeout (the rule of expired, in SQL).
func (s *sessionDB) count(ctx context.Context) (int64, error) {
	now := s.clock()
	var n int64
	err := database.Conn(ctx, s.db).Model(&sessionRow{}).
		Where("expires_at > ? AND last_seen_at > ?", now, now.Add(-s.timeouts.Idle)).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("oidc: count sessions: %w", err)
	}
	return n, nil
}

// CountSessions returns how many browser sessions are live, for the
// console's overview.
func (p *Pages) CountSessions(ctx context.Context) (int64, error) { return p.sessions.count(ctx) }

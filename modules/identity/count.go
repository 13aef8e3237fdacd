package identity

import (
	"context"
	"fmt"
)

// CountUsers returns how many users exist (service accounts included), for
// the console's overview.
func (s *Service) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.st.conn(ctx).Model(&userRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("identity: count users: %w", err)
	}
	return n, nil
}

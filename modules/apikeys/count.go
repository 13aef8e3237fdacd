package apikeys

import (
	"context"
	"fmt"
)

// CountActive returns how many keys work now (neither revoked nor
// expired), for the console's overview.
func (s *Service) CountActive(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.conn(ctx).Model(&keyRow{}).
		Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", s.now()).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("apikeys: count: %w", err)
	}
	return n, nil
}

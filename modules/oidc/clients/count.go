package clients

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/database"
)

// Count returns how many clients are registered, for the console's
// overview.
func (s *Service) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := database.Conn(ctx, s.db).Model(&clientRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("clients: count: %w", err)
	}
	return n, nil
}

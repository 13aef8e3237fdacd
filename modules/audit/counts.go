package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/validation"
)

// MaxBuckets bounds Counts' n: one query sums every bucket at once.
const MaxBuckets = 200

// Counts returns how many events with action were recorded in each of n
// consecutive windows of length step, the first starting at start: bucket
// i covers [start+i·step, start+(i+1)·step). It is one query over the
// (action, time) index, portable across both dialects (a SUM of CASEs per
// bucket, with the same time comparisons as List), for the console's
// sign-in charts.
func (s *Service) Counts(ctx context.Context, action string, start time.Time, step time.Duration, n int) ([]int64, error) {
	if n < 1 || n > MaxBuckets {
		return nil, validation.Field("n", "must be 1..%d", MaxBuckets)
	}
	if step < time.Second {
		return nil, validation.Field("step", "must be at least a second")
	}
	start = start.UTC().Truncate(time.Microsecond)
	cols := make([]string, n)
	args := make([]any, 0, 2*n)
	for i := range n {
		cols[i] = fmt.Sprintf("COALESCE(SUM(CASE WHEN time >= ? AND time < ? THEN 1 ELSE 0 END), 0) AS b%d", i)
		args = append(args, start.Add(time.Duration(i)*step), start.Add(time.Duration(i+1)*step))
	}
	end := start.Add(time.Duration(n) * step)
	row := database.Conn(ctx, s.db).Model(&eventRow{}).
		Select(strings.Join(cols, ", "), args...).
		Where("action = ? AND time >= ? AND time < ?", action, start, end).Row()
	out := make([]int64, n)
	dst := make([]any, n)
	for i := range out {
		dst[i] = &out[i]
	}
	if err := row.Scan(dst...); err != nil {
		return nil, fmt.Errorf("audit: counts: %w", err)
	}
	return out, nil
}

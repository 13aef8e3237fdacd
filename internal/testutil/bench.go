package testutil

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
)

// ForEachDBBench is ForEachDB for benchmarks: fn runs as the sub-benchmarks
// "sqlite" and "postgres", each on a fresh migrated database.
func ForEachDBBench(b *testing.B, fn func(b *testing.B, db database.DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, NewSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, NewPostgres(b)) })
}

// CPUMeter measures this process's CPU time (user + system) from its
// start. Benchmarks report it per operation ("cpu-ns/op"): on a shared
// machine, unlike ns/op, it does not grow when other processes compete for
// the cores. On PostgreSQL the database server's CPU is not in it.
type CPUMeter struct{ start time.Duration }

// StartCPU starts a measurement.
func StartCPU() CPUMeter { return CPUMeter{start: ProcessCPU()} }

// PerOp is the CPU time per operation since StartCPU, over b.N operations.
func (m CPUMeter) PerOp(b *testing.B) float64 {
	return float64(ProcessCPU()-m.start) / float64(b.N)
}

// Report adds PerOp to b's results as "cpu-ns/op" (nothing where the
// platform cannot measure it).
func (m CPUMeter) Report(b *testing.B) {
	if m.start > 0 {
		b.ReportMetric(m.PerOp(b), "cpu-ns/op")
	}
}

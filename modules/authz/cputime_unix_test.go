//go:build unix

package authz

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used. The
// benchmarks report it per operation ("cpu-ns/op"), which, unlike ns/op,
// does not grow when other processes compete for the CPUs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

package bench

import "syscall"

// processCPU is the CPU time, user and system, of the whole process so far
// (every goroutine: the handler's, the export goroutine's, the GC's), and
// whether it could be read.
func processCPU() (nanos int64, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}

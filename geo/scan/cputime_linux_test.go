package scan_test

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling thread: a one-core throughput figure that does not
// change when other programs share the cores. The caller locks its goroutine to the thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func lockThread() func() { runtime.LockOSThread(); return runtime.UnlockOSThread }

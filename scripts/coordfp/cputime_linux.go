package main

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling thread (main locks itself to one): the scan's cost
// on one core, whatever else shares the machine.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

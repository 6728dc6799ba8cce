// Command droneaudit finds out what a drone system sends, to whom, and whether the location of a
// police mission leaves the device. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // --tz Europe/Brussels works on a machine without a zone database

	"droneaudit/internal/safetext"
)

// Exit codes (DESIGN.md): 0 pass, 1 error, 2 usage mistake, 3 policy failed.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitPolicy = 3
)

// exitCodeError carries an exit code out of a command.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

// usageError marks a mistake in how the command was called.
func usageError(format string, a ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// policyFailed is returned when the audit verdict is "fail"; the report has already been printed.
var policyFailed = &exitCodeError{code: exitPolicy}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C or SIGTERM ends the run cleanly; a second one kills the process as usual.
	context.AfterFunc(ctx, stop)
	stopProfile := startProfile(os.Getenv("DRONEAUDIT_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	writeAllocProfile(os.Getenv("DRONEAUDIT_MEMPROFILE"))
	stop()
	os.Exit(code)
}

// writeAllocProfile writes the run's allocation profile (go tool pprof -sample_index=alloc_space)
// to path, when set: where a run's garbage comes from.
func writeAllocProfile(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "droneaudit: allocation profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "droneaudit: allocation profile:", err)
	}
}

// startProfile writes a CPU profile of the run to path (for docs/BENCHMARKS.md), when set.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "droneaudit: cpu profile:", err)
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWithInput(ctx, args, nil, stdout, stderr)
}

// runWithInput is run with stdin as standard input (nil: the process's).
func runWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	if stdin != nil {
		root.SetIn(stdin)
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(stderr, "droneaudit:", safetext.String(ec.err.Error()))
		}
		return ec.code
	}
	fmt.Fprintln(stderr, "droneaudit:", safetext.String(err.Error()))
	if isUsage(err) {
		return exitUsage
	}
	return exitError
}

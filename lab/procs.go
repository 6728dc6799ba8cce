package lab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Packages names the Debian package of each program the lab runs.
var Packages = map[string]string{"hostapd": "hostapd", "dnsmasq": "dnsmasq", "nft": "nftables", "ip": "iproute2"}

// FindProgram looks a program up in PATH and in the sbin folders (which a non-login root shell
// or sudo may leave out of PATH); the error names the Debian package that installs it.
func FindProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	pkg := Packages[name]
	if pkg == "" {
		pkg = name
	}
	return "", fmt.Errorf("%s is not installed: install the Debian package %s (apt-get install %s)", name, pkg, pkg)
}

// child is a program the lab runs (hostapd, dnsmasq) with its output copied into a log file
// in the session folder, line by line, and offered to onLine.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the program has exited and its output is copied
	err  error         // its exit status, valid after done
}

// spawner forks the children from one OS thread that lives as long as the lab. Pdeathsig is
// sent when the thread that forked a child ends, not the process (prctl(2) PR_SET_PDEATHSIG),
// and the Go runtime may end an idle thread; this one is locked and kept until Close.
type spawner struct{ req chan func() }

func newSpawner() *spawner {
	s := &spawner{req: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine, after the children
		for f := range s.req {
			f()
		}
	}()
	return s
}

// do runs f on the spawner's thread and waits for it.
func (s *spawner) do(f func()) {
	done := make(chan struct{})
	s.req <- func() { f(); close(done) }
	<-done
}

// Close ends the thread; call it after every child has been stopped.
func (s *spawner) Close() { close(s.req) }

// startChild starts path with args on the spawner's thread. The child gets its own process
// group (a Ctrl-C on the terminal reaches the lab, which stops the children in order) and
// SIGTERM should the lab die without stopping it (Pdeathsig), so no child outlives the lab.
func startChild(sp *spawner, name, path string, args []string, logPath string, onLine func(string)) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	sp.do(func() { err = cmd.Start() })
	if err != nil {
		pr.Close()
		pw.Close()
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	pw.Close()
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyLines(pr, logf, onLine)
	}()
	go func() {
		c.err = cmd.Wait()
		<-copied
		pr.Close()
		logf.Close()
		close(c.done)
	}()
	return c, nil
}

// copyLines copies output into the log and hands each line (bounded) to onLine.
func copyLines(r io.Reader, w io.Writer, onLine func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(w, line)
		if onLine != nil {
			onLine(line)
		}
	}
	io.Copy(w, r) // a line over the limit: keep the rest verbatim
}

// settle waits a moment for a child that fails at once (a bad option, an interface in use) so
// the lab reports its error instead of running without it.
func (c *child) settle(d time.Duration, logPath string) error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited at start (%v); its output: %s", c.name, c.err, tail(logPath))
	case <-time.After(d):
		return nil
	}
}

// stop sends SIGTERM, waits, and kills after grace; it returns once the child is reaped.
func (c *child) stop(grace time.Duration) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s and was killed", c.name, grace)
	}
}

// tail returns the last lines of a log file for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

// run runs a short command (ip, nft, sysctl) and returns its output in the error.
func run(path string, args ...string) error {
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", filepath.Base(path), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

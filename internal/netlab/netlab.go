// Package netlab builds throw-away network labs for tests: two Linux network namespaces joined
// by a veth pair, so live-capture tests send real traffic without touching any other network.
// It needs root and iproute2; New skips the test otherwise.
package netlab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Lab is a pair of namespaces: A plays the lab device (phone, controller), B the servers.
type Lab struct {
	NSA, NSB     string     // namespace names
	IfA, IfB     string     // veth ends inside A and B
	AddrA, AddrB netip.Addr // IPv4 addresses on the veth ends (a /24 of their own)
}

// New creates the namespaces and the veth pair, brings everything up, and removes it all when
// the test ends. Names are random, so parallel runs do not collide.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) not installed")
	}
	var r [3]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	l := &Lab{NSA: "dal-a-" + id, NSB: "dal-b-" + id, IfA: "vda" + id, IfB: "vdb" + id}
	// 10.200.X.0/24 with X from the random id: only inside our namespaces.
	l.AddrA = netip.AddrFrom4([4]byte{10, 200, r[0], 1})
	l.AddrB = netip.AddrFrom4([4]byte{10, 200, r[0], 2})
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.NSA).Run()
		exec.Command("ip", "netns", "del", l.NSB).Run()
	})
	steps := [][]string{
		{"netns", "add", l.NSA},
		{"netns", "add", l.NSB},
		{"link", "add", l.IfA, "netns", l.NSA, "type", "veth", "peer", "name", l.IfB, "netns", l.NSB},
		{"-n", l.NSA, "addr", "add", l.AddrA.String() + "/24", "dev", l.IfA},
		{"-n", l.NSB, "addr", "add", l.AddrB.String() + "/24", "dev", l.IfB},
		{"-n", l.NSA, "link", "set", l.IfA, "up"},
		{"-n", l.NSB, "link", "set", l.IfB, "up"},
		{"-n", l.NSA, "link", "set", "lo", "up"},
		{"-n", l.NSB, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Skipf("cannot build the namespace lab (ip %s): %v %s", strings.Join(s, " "), err, out)
		}
	}
	return l
}

// Cmd returns a command that runs inside namespace ns.
func Cmd(ns string, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// In runs fn on an OS thread that has joined namespace ns. Sockets created by fn stay in ns
// after it returns and may be used from any goroutine.
func In(ns string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: leave it locked so the runtime discards it.
		return fmt.Errorf("restoring the namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

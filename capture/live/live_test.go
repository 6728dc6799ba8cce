//go:build linux

package live

import (
	"os"
	"strings"
	"testing"

	"droneaudit/internal/netlab"
)

func TestOpenLiveErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := Open("nosuchif0", Options{}); err == nil || !strings.Contains(err.Error(), "nosuchif0") {
		t.Errorf("missing interface: %v", err)
	}
	lab := netlab.New(t)
	err := netlab.In(lab.NSA, func() error {
		_, err := Open(lab.IfA, Options{Filter: "udp or tcp"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "or") {
		t.Errorf("bad filter: %v", err)
	}
}

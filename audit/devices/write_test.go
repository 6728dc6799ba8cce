package devices

import (
	"bytes"
	"strings"
	"testing"
)

// TestWriteTextSanitised: what a device announced reaches the text output escaped, one line per
// field, whatever control characters it holds.
func TestWriteTextSanitised(t *testing.T) {
	inv := &Inventory{Devices: []Row{{MAC: "44:47:cc:aa:bb:cc", DHCP: DHCP{HostNames: []string{"cam\x1b[2J\nDEVICE fake"}},
		UPnP: UPnP{FriendlyNames: []string{"x\ry"}}, Destinations: []Contact{{IP: "192.0.2.1", Names: []string{"a\x07b"}}}}}}
	var b bytes.Buffer
	if err := inv.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r\x07") || strings.Contains(out, "\nDEVICE fake") {
		t.Errorf("control characters in the text output:\n%q", out)
	}
	heads := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "DEVICE ") {
			heads++
		}
	}
	if heads != 1 || !strings.Contains(out, `host name cam\x1b[2J\nDEVICE fake`) {
		t.Errorf("text output:\n%s", out)
	}
}

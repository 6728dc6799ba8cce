package devices

import (
	"strings"
	"testing"

	"droneaudit/internal/corpus"
)

// TestCorpusCaptures builds the device inventory of every capture of the shared real-sample
// corpus (pcap and pcapng per MANIFEST.tsv: MAVLink over loopback and Ethernet, DUML serial
// taps, 802.11 with radiotap, TLS sessions): each runs without error. The loopback captures
// list no device (the address 00:00:00:00:00:00 of Linux's lo is no device's); the TLS ones
// list the two hosts of each session.
func TestCorpusCaptures(t *testing.T) {
	n := 0
	for _, e := range corpus.Files(t, "") {
		if !strings.HasPrefix(e.Format, "pcap") {
			continue
		}
		n++
		path := corpus.Path(t, e.File)
		inv, err := Build(t.Context(), []string{path}, Options{})
		if err != nil {
			t.Errorf("%s: %v", e.File, err)
			continue
		}
		if inv.Packets == 0 {
			t.Errorf("%s: no packets read", e.File)
		}
		for _, r := range inv.Devices {
			if r.MAC == "00:00:00:00:00:00" || (r.MAC == "" && len(r.IPv4)+len(r.IPv6) == 0) {
				t.Errorf("%s: %+v", e.File, r)
			}
		}
		switch e.File {
		case "tls/tls12-chacha20poly1305.pcap", "tls/tls13-20-chacha20poly1305.pcap":
			if len(inv.Devices) != 2 {
				t.Errorf("%s: %d devices, want the two hosts of the session", e.File, len(inv.Devices))
			}
		case "mavlink/gps_raw_int.pcapng", "mavlink/mission_item_int.pcapng", "mavlink/command_long_over_tcp.pcapng":
			if len(inv.Devices) != 0 {
				t.Errorf("%s: %d devices on loopback", e.File, len(inv.Devices))
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d corpus captures", n)
	}
}

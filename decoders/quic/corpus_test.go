package quic

import (
	"testing"

	"droneaudit/internal/netfixture"
)

// TestCorpusNoFalsePositives runs the decoder on every TCP and UDP payload of the real captures
// in the shared corpus (MAVLink over TCP and UDP, per MANIFEST.tsv); none of them is this
// protocol, so nothing may be decoded from them.
func TestCorpusNoFalsePositives(t *testing.T) {
	n := 0
	for _, rel := range netfixture.CorpusCaptures {
		for _, p := range netfixture.CorpusPayloads(t, rel) {
			n++
			tr := NewTracker()
			tr.ClientDatagram(p.Payload)
			if IsLongHeader(p.Payload) || tr.Initials != 0 {
				t.Errorf("%s frame %d: MAVLink read as QUIC", rel, p.Frame)
			}
		}
	}
	if n == 0 {
		t.Fatal("no payloads read from the corpus captures")
	}
}

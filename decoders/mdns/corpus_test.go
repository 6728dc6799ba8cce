package mdns

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
			if m, err := Parse(p.Payload); err == nil && LooksLike(p.Payload) && len(m.Records) > 0 {
				t.Errorf("%s frame %d: MAVLink read as mDNS: %+v", rel, p.Frame, m)
			}
		}
	}
	if n == 0 {
		t.Fatal("no payloads read from the corpus captures")
	}
}

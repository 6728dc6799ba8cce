package http

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
			if r, _, _, err := ParseHead(p.Payload); r != nil || err != ErrNotHTTP {
				t.Errorf("%s frame %d: MAVLink read as HTTP: %v %v", rel, p.Frame, r, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no payloads read from the corpus captures")
	}
}

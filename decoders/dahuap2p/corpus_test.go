package dahuap2p

import (
	"testing"

	"droneaudit/internal/netfixture"
)

// TestCorpusNoFalsePositives runs the decoder on every TCP and UDP payload of the real captures
// in the shared corpus (MAVLink over TCP and UDP, per MANIFEST.tsv); none of them is this
// protocol, so nothing may be decoded from them.
func TestCorpusNoFalsePositives(t *testing.T) {
	netfixture.CorpusNotRead(t, "Dahua P2P", func(b []byte) (any, bool) {
		m, err := ParseRequest(b)
		return m, err == nil || LooksLike(b)
	})
}

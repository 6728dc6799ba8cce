package sadp

import (
	"testing"

	"droneaudit/internal/netfixture"
)

// TestCorpusNoFalsePositives runs the recogniser and the parser on every TCP and UDP payload of
// the real captures in the shared corpus (MAVLink over TCP and UDP, per MANIFEST.tsv); none of
// them is SADP, so none may be claimed.
func TestCorpusNoFalsePositives(t *testing.T) {
	netfixture.CorpusNotRead(t, "SADP", func(b []byte) (any, bool) {
		m, err := Parse(b)
		return m, err == nil || LooksLike(b)
	})
}

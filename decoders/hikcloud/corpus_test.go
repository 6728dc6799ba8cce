package hikcloud

import (
	"testing"

	"droneaudit/internal/netfixture"
)

// TestCorpusNoFalsePositives runs both recognisers and the EHome parser on every TCP and UDP
// payload of the real captures in the shared corpus (MAVLink over TCP and UDP, per
// MANIFEST.tsv); none of them is Hikvision traffic, so none may be claimed.
func TestCorpusNoFalsePositives(t *testing.T) {
	netfixture.CorpusNotRead(t, "Hikvision VTM or EHome", func(b []byte) (any, bool) {
		m, err := ParseEHome(b)
		return m, err == nil || LooksLikeVTM(b)
	})
}

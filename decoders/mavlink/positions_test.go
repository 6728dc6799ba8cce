package mavlink

import (
	"slices"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
)

// The position messages named by their gomavlib types are the message ids listed in
// mavlink-dataflash-ulog.md §5, and no others: naming them changed nothing.
func TestPositionIDs(t *testing.T) {
	want := []uint32{24, 33, 39, 49, 73, 75, 124, 160, 175, 178, 180, 182, 242, 243, 263, 12901, 12904, 12919}
	var got []uint32
	for _, m := range ardupilotmega.Dialect.Messages {
		if IsPosition(m.GetID()) {
			got = append(got, m.GetID())
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("position ids %v, want %v", got, want)
	}
	for _, id := range []uint32{0, 1, 255, 256, 1 << 23} {
		if IsPosition(id) {
			t.Errorf("IsPosition(%d)", id)
		}
	}
}

package csvlog

import (
	"strings"
	"testing"

	"droneaudit/decoders/decodertest"
)

// TestCutFile is the CSV row of the cut-file table (decodertest.Cuts): a generated Airdata export
// cut inside its header line, inside a row and at a row boundary.
//
// CSV has no end marker: a cut at a row boundary is silent, and so is a cut inside the last cell
// of a row, which leaves a row with every cell (files with and without a final newline both
// exist). A cut that leaves fewer cells than the header is reported at the start of its row.
func TestCutFile(t *testing.T) {
	data := writeAirdata(rows(12))
	text := string(data)
	row := func(n int) int64 { // offset of data row n (1-based)
		off := 0
		for i := 0; i < n; i++ {
			off += strings.IndexByte(text[off:], '\n') + 1
		}
		return int64(off)
	}
	r9, r10 := row(9), row(10)
	lat := r9 + int64(strings.Index(text[r9:], ",59.9")) + 5
	decodertest.Cuts(t, New(), "cut.csv", data, []decodertest.Cut{
		{Name: "inside the header line before the position columns", At: 20, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "inside the header line after the position columns", At: int64(strings.Index(text, "speed(mph)")), Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "inside a latitude cell", At: lat, Before: r9, Want: []decodertest.WantNote{decodertest.Truncated(r9)}},
		{Name: "inside a row after its position", At: r9 + 120, Before: r9 + 1, Want: []decodertest.WantNote{decodertest.Truncated(r9)}},
		{Name: "inside the last cell of a row (silent)", At: r10 - 1, Before: r9 + 1},
		{Name: "at a row boundary (silent)", At: r9, Before: r9},
	})
}

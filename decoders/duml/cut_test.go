package duml

import (
	"testing"

	"droneaudit/decoders/decodertest"
)

// TestCutFile is the DUML row of the cut-file table (decodertest.Cuts): a generated raw stream of
// OSD, home and other frames cut inside a frame header, inside a frame and at a frame boundary.
//
// A raw DUML stream has no end marker: a cut at a frame boundary is silent.
func TestCutFile(t *testing.T) {
	var data []byte
	var offs []int64
	for i := range 30 {
		offs = append(offs, int64(len(data)))
		switch i % 3 {
		case 0:
			data = append(data, Encode(0x03, 0x02, uint16(i), 0, SetFlightControl, IDOSDGeneral, osdPayload(51.1+float64(i)*1e-5, 5.4))...)
		case 1:
			data = append(data, Encode(0x03, 0x02, uint16(i), 0, SetFlightControl, IDOSDHome, homePayload(51.1, 5.4+float64(i)*1e-5))...)
		default:
			data = append(data, Encode(0x09, 0x03, uint16(i), 0, 0x09, 0x01, make([]byte, 20))...)
		}
	}
	r := offs[24] // an OSD frame
	cut := []decodertest.WantNote{decodertest.Truncated(r)}
	decodertest.Cuts(t, Stream{}, "cut.bin", data, []decodertest.Cut{
		{Name: "inside the first header", At: 2, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "inside a header", At: r + 3, Before: r, Want: cut},
		{Name: "after a header", At: r + 4, Before: r, Want: cut},
		{Name: "inside a payload", At: r + 30, Before: r, Want: cut},
		{Name: "inside the CRC-16", At: offs[25] - 1, Before: r, Want: cut},
		{Name: "at a frame boundary (silent)", At: r, Before: r},
	})
}

package dataflash

import (
	"bytes"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
)

// TestCutFile is the DataFlash row of the cut-file table (decodertest.Cuts): a generated log cut
// inside a message header, inside a message and at a message boundary.
//
// A DataFlash log has no end marker and no index: a cut at a message boundary is silent.
func TestCutFile(t *testing.T) {
	fx := genLog(8, false)
	msgs, _, _ := readAll(t, fx.data)
	var g int64 = -1
	seen := 0
	for _, m := range msgs {
		if m.name == "GPS" {
			if seen++; seen == 7 {
				g = m.offset
			}
		}
	}
	if g < 0 {
		t.Fatal("no seventh GPS message")
	}
	cut := []decodertest.WantNote{decodertest.Truncated(g)}
	decodertest.Cuts(t, New(), "cut.bin", fx.data, []decodertest.Cut{
		{Name: "inside the first header", At: 2, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "after the first byte of a header", At: g + 1, Before: g, Want: cut},
		{Name: "after the second byte of a header", At: g + 2, Before: g, Want: cut},
		{Name: "after a whole header", At: g + 3, Before: g, Want: cut},
		{Name: "inside a message", At: g + 20, Before: g, Want: cut},
		{Name: "at a message boundary (silent)", At: g, Before: g},
	})
	// A signed container has an end record: a cut also says that the chain is incomplete.
	signed := wrapSigned(genLog(30, true).data, 1)
	msgs, _, _ = readAll(t, signed)
	m := msgs[len(msgs)/2]
	if bytes.Contains(signed[m.offset:m.offset+10], chunkMagic) {
		m = msgs[len(msgs)/2+1]
	}
	at := m.offset + 10
	decodertest.Cuts(t, New(), "signed.bin", signed, []decodertest.Cut{
		{Name: "signed: inside a message", At: at, Before: m.offset, Want: []decodertest.WantNote{
			decodertest.Truncated(m.offset), {Code: decoders.CodeSignedChain, Offset: at}}},
	})
}

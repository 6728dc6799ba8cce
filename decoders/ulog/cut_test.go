package ulog

import (
	"bytes"
	"io"
	"testing"

	"droneaudit/decoders/decodertest"
)

// TestCutFile is the ULog row of the cut-file table (decodertest.Cuts): a generated log cut inside
// its file header, inside a message header, inside a message and at a message boundary.
//
// A ULog file has no end marker: a cut at a message boundary is silent.
func TestCutFile(t *testing.T) {
	data := genULog(12)
	rd, err := NewReader(bytes.NewReader(data), "gen.ulg")
	if err != nil {
		t.Fatal(err)
	}
	var ds []int64
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == 'D' {
			ds = append(ds, m.Offset)
		}
	}
	d := ds[len(ds)*3/4]
	cut := []decodertest.WantNote{decodertest.Truncated(d)}
	decodertest.Cuts(t, New(), "cut.ulg", data, []decodertest.Cut{
		{Name: "inside the file header", At: 9, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "inside a message header", At: d + 2, Before: d, Want: cut},
		{Name: "after a message header", At: d + 3, Before: d, Want: cut},
		{Name: "inside a message", At: d + 9, Before: d, Want: cut},
		{Name: "at a message boundary (silent)", At: d, Before: d},
	})
}

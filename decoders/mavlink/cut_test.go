package mavlink

import (
	"encoding/binary"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"droneaudit/decoders/decodertest"
)

// genFlight returns n records of a flight, GLOBAL_POSITION_INT and ATTITUDE in turn, as a tlog
// (with timestamps) or as a raw link dump, MAVLink 1 and 2 mixed; and the offset of each record.
func genFlight(t testing.TB, n int, tlog bool) ([]byte, []int64) {
	var b []byte
	var offs []int64
	for i := range n {
		offs = append(offs, int64(len(b)))
		if tlog {
			b = binary.BigEndian.AppendUint64(b, 1746714529674540+uint64(i)*100_000)
		}
		if i%2 == 0 {
			b = append(b, mustEncode(t, &ardupilotmega.MessageGlobalPositionInt{Lat: 511680000 + int32(i)*100, Lon: 54700000 - int32(i)*100, Alt: 80_000}, i%4 == 0, uint8(i))...)
		} else {
			b = append(b, mustEncode(t, &ardupilotmega.MessageAttitude{Roll: 0.1, Pitch: 0.2, Yaw: 1.5}, i%3 == 0, uint8(i))...)
		}
	}
	return b, offs
}

// TestCutFile is the MAVLink row of the cut-file table (decodertest.Cuts): a generated tlog and a
// raw link dump cut inside a record's timestamp, inside a frame header, inside a payload and at a
// record boundary. A cut frame is reported as truncated at the start of its record, never as junk.
//
// Neither a tlog nor a link dump has an end marker: a cut at a record boundary is silent.
func TestCutFile(t *testing.T) {
	data, offs := genFlight(t, 20, true)
	r := offs[16] // a GLOBAL_POSITION_INT record, MAVLink 2
	cut := []decodertest.WantNote{decodertest.Truncated(r)}
	decodertest.Cuts(t, File{}, "cut.tlog", data, []decodertest.Cut{
		{Name: "tlog: inside the first timestamp", At: 5, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "tlog: inside a timestamp", At: r + 5, Before: r, Want: cut},
		{Name: "tlog: after a timestamp", At: r + 8, Before: r, Want: cut},
		{Name: "tlog: inside a frame header", At: r + 8 + 4, Before: r, Want: cut},
		{Name: "tlog: inside a payload", At: r + 8 + 20, Before: r, Want: cut},
		{Name: "tlog: inside the checksum", At: offs[17] - 1, Before: r, Want: cut},
		{Name: "tlog: at a record boundary (silent)", At: r, Before: r},
	})
	data, offs = genFlight(t, 20, false)
	r = offs[16]
	cut = []decodertest.WantNote{decodertest.Truncated(r)}
	decodertest.Cuts(t, File{}, "cut.mavlink", data, []decodertest.Cut{
		{Name: "raw: inside a frame header", At: r + 4, Before: r, Want: cut},
		{Name: "raw: inside a payload", At: r + 20, Before: r, Want: cut},
		{Name: "raw: inside the checksum", At: offs[17] - 1, Before: r, Want: cut},
		{Name: "raw: at a frame boundary (silent)", At: r, Before: r},
	})
}

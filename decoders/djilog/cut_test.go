package djilog

import (
	"encoding/binary"
	"fmt"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

// recordAt returns the file offset of record k of a generated file.
func (fx *fixture) recordAt(data []byte, k int) int64 {
	var start int
	switch {
	case fx.version <= 5:
		start = oldPrefixLen
	case fx.version <= 11:
		start = newPrefixLen
	case fx.version == 12:
		start = newPrefixLen + detailsLenV12
	default:
		start = len(data) - len(fx.recordBytes()) - len(fx.marker()) - len(fx.images())
	}
	return int64(start + len(fx.recordBytesUpTo(k)))
}

// osdRecord returns the index of the n-th OSD record from the end.
func (fx *fixture) osdRecord(n int) int {
	for i := len(fx.recs) - 1; i >= 0; i-- {
		if fx.recs[i].typ == typeOSD {
			if n--; n == 0 {
				return i
			}
		}
	}
	return -1
}

// TestCutFile is the DJI flight record row of the cut-file table (decodertest.Cuts): generated
// files of the old (v4), scrambled (v8, v11), v12 and encrypted (v14) layouts, cut inside the
// prefix, inside a record's header, inside a record and at a record boundary.
//
// A flight record has an end: the details (v≤11, named by the prefix) or the end-of-records
// marker (v12+) follow the records. So even a cut at a record boundary is reported, at the end of
// the file, where the missing part starts. Each cut also gives the note the layout gives for the
// missing end (corrupt-details: the details offset lies past the end; no-marker).
func TestCutFile(t *testing.T) {
	for _, v := range []int{4, 8, 11, 12, 14} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			fx := flight(v, 60)
			if v == 14 {
				for i := range fx.recs { // AES blocks: whole multiples of 16
					fx.recs[i].content = append(fx.recs[i].content, make([]byte, (16-len(fx.recs[i].content)%16)%16)...)
				}
			}
			if v >= 11 {
				fx.pictures = []fxPicture{{full: testJPEG(t, true, 47.2, 8.8, 500, binary.LittleEndian), thumb: testJPEG(t, false, 0, 0, 0, nil), lat: 47.2, lon: 8.8}}
			}
			data := fx.bytes()
			k := fx.osdRecord(5)
			r := fx.recordAt(data, k)
			end := func(at int64) []decodertest.WantNote { // what the missing end of the file adds
				switch {
				case v <= 11:
					return []decodertest.WantNote{{Code: decoders.CodeCorruptDetails, Offset: 0}}
				case v == 12:
					return []decodertest.WantNote{{Code: decoders.CodeNoMarker, Offset: at - int64(len(fx.images())) - 4}}
				}
				return []decodertest.WantNote{{Code: decoders.CodeNoMarker, Offset: at - int64(len(fx.images())) - 4}}
			}
			want := func(at, cutAt int64) []decodertest.WantNote {
				return append(end(at), decodertest.Truncated(cutAt))
			}
			cuts := []decodertest.Cut{
				{Name: "inside a record header", At: r + 1, Before: r, Want: want(r+1, r)},
				{Name: "inside a record", At: r + 20, Before: r, Want: want(r+20, r)},
				{Name: "at a record boundary", At: r, Before: r, Want: want(r, r)},
			}
			if v >= 6 {
				cuts = append(cuts, decodertest.Cut{Name: "inside the prefix", At: 50, Want: []decodertest.WantNote{decodertest.Truncated(0)}})
			}
			if v >= 13 {
				cuts = append(cuts, decodertest.Cut{Name: "inside the info block", At: newPrefixLen + 200, Want: []decodertest.WantNote{decodertest.Truncated(newPrefixLen)}})
			}
			decodertest.Cuts(t, Decoder{}, "DJIFlightRecord_2021-09-05_[19-23-47].txt", data, cuts)
		})
	}
}

// TestInfoBlockOverRecords: a v14 info block whose length runs past the records start the prefix
// names, and past the end of the file, is too large, not cut.
func TestInfoBlockOverRecords(t *testing.T) {
	data := flight(14, 5).bytes()
	binary.LittleEndian.PutUint16(data[newPrefixLen+1:], 0xFFF0)
	s, err := decodeBytes(t, "long.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.code(decoders.CodeTooLarge); len(n) != 1 || n[0].Offset != newPrefixLen || len(s.code(decoders.CodeTruncated)) != 0 {
		t.Fatalf("notes %+v", s.Notes)
	}
}

// TestRecordOverRegion: a record whose length runs past the end of the records region while the
// file goes on (the marker, pictures and details follow) is too large for the region, not cut:
// the note says so, and the file is not called truncated.
func TestRecordOverRegion(t *testing.T) {
	fx := flight(11, 30)
	data := fx.bytes()
	last := fx.recordAt(data, len(fx.recs)-1)
	data[last+1] = 0xFF // the last record now claims 255 payload bytes
	s, err := decodeBytes(t, "long.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.code(decoders.CodeTooLarge); len(n) != 1 || n[0].Offset != last || len(s.code(decoders.CodeTruncated)) != 0 {
		t.Fatalf("notes %+v", s.Notes)
	}
	if len(s.role(geo.RoleAircraft)) != 30 {
		t.Errorf("%d aircraft fixes", len(s.role(geo.RoleAircraft)))
	}
}

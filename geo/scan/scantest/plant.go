// Package scantest writes coordinates in every encoding the search knows, for its tests, its
// fuzz seeds and the false-positive tool (scripts/coordfp): the encodings are written here
// independently of the search's decoding.
package scantest

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"droneaudit/geo/scan"
)

// Plant returns the bytes of a lat/lon pair written in enc and the offset of the pair's first
// value in them (after a protobuf key, at a decimal's sign or first digit).
func Plant(enc scan.Encoding, lat, lon float64, order scan.Order) ([]byte, int) {
	a, b := lat, lon
	if order == scan.LonLat {
		a, b = lon, lat
	}
	le, be := binary.LittleEndian, binary.BigEndian
	i32 := func(o binary.AppendByteOrder, scale float64) []byte {
		out := o.AppendUint32(nil, uint32(int32(math.Round(a*scale))))
		return o.AppendUint32(out, uint32(int32(math.Round(b*scale))))
	}
	i64 := func(o binary.AppendByteOrder, scale float64) []byte {
		out := o.AppendUint64(nil, uint64(int64(math.Round(a*scale))))
		return o.AppendUint64(out, uint64(int64(math.Round(b*scale))))
	}
	f32 := func(o binary.AppendByteOrder, unit float64) []byte {
		out := o.AppendUint32(nil, math.Float32bits(float32(a/unit)))
		return o.AppendUint32(out, math.Float32bits(float32(b/unit)))
	}
	f64 := func(o binary.AppendByteOrder, unit float64) []byte {
		out := o.AppendUint64(nil, math.Float64bits(a/unit))
		return o.AppendUint64(out, math.Float64bits(b/unit))
	}
	// pb writes two fields: key 1, value a; key 2, value b (wire type wt, value width w).
	pb := func(wt byte, vals []byte, w int) ([]byte, int) {
		out := []byte{1<<3 | wt}
		out = append(out, vals[:w]...)
		out = append(out, 2<<3|wt)
		return append(out, vals[w:]...), 1
	}
	varint := func(scale float64, zigzag bool) ([]byte, int) {
		enc := func(v float64) uint64 {
			x := int64(math.Round(v * scale))
			if zigzag {
				return uint64(x<<1) ^ uint64(x>>63)
			}
			return uint64(x)
		}
		out := []byte{1 << 3}
		out = binary.AppendUvarint(out, enc(a))
		out = append(out, 2<<3)
		return binary.AppendUvarint(out, enc(b)), 1
	}
	const rad = 180 / math.Pi
	switch enc {
	case scan.DecimalText:
		return []byte(fmt.Sprintf(`{"a":%.7f,"b":%.7f}`, a, b)), 5
	case scan.TextE5, scan.TextE6, scan.TextE7:
		scale := map[scan.Encoding]float64{scan.TextE5: 1e5, scan.TextE6: 1e6, scan.TextE7: 1e7}[enc]
		return []byte(fmt.Sprintf(`{"a":%d,"b":%d}`, int64(math.Round(a*scale)), int64(math.Round(b*scale)))), 5
	case scan.Int32E5LE:
		return i32(le, 1e5), 0
	case scan.Int32E5BE:
		return i32(be, 1e5), 0
	case scan.Int32E6LE:
		return i32(le, 1e6), 0
	case scan.Int32E6BE:
		return i32(be, 1e6), 0
	case scan.Int32E7LE:
		return i32(le, 1e7), 0
	case scan.Int32E7BE:
		return i32(be, 1e7), 0
	case scan.Int64E5LE:
		return i64(le, 1e5), 0
	case scan.Int64E5BE:
		return i64(be, 1e5), 0
	case scan.Int64E6LE:
		return i64(le, 1e6), 0
	case scan.Int64E6BE:
		return i64(be, 1e6), 0
	case scan.Int64E7LE:
		return i64(le, 1e7), 0
	case scan.Int64E7BE:
		return i64(be, 1e7), 0
	case scan.Int32RadE7LE:
		return i32(le, 1e7/rad), 0
	case scan.Int32RadE7BE:
		return i32(be, 1e7/rad), 0
	case scan.Float32DegLE:
		return f32(le, 1), 0
	case scan.Float32DegBE:
		return f32(be, 1), 0
	case scan.Float64DegLE:
		return f64(le, 1), 0
	case scan.Float64DegBE:
		return f64(be, 1), 0
	case scan.Float32RadLE:
		return f32(le, rad), 0
	case scan.Float32RadBE:
		return f32(be, rad), 0
	case scan.Float64RadLE:
		return f64(le, rad), 0
	case scan.Float64RadBE:
		return f64(be, rad), 0
	case scan.PBSfixed32E5:
		return pb(5, i32(le, 1e5), 4)
	case scan.PBSfixed32E6:
		return pb(5, i32(le, 1e6), 4)
	case scan.PBSfixed32E7:
		return pb(5, i32(le, 1e7), 4)
	case scan.PBSfixed64E5:
		return pb(1, i64(le, 1e5), 8)
	case scan.PBSfixed64E6:
		return pb(1, i64(le, 1e6), 8)
	case scan.PBSfixed64E7:
		return pb(1, i64(le, 1e7), 8)
	case scan.PBFloat:
		return pb(5, f32(le, 1), 4)
	case scan.PBDouble:
		return pb(1, f64(le, 1), 8)
	case scan.PBVarintE5:
		return varint(1e5, false)
	case scan.PBVarintE6:
		return varint(1e6, false)
	case scan.PBVarintE7:
		return varint(1e7, false)
	case scan.PBZigzagE5:
		return varint(1e5, true)
	case scan.PBZigzagE6:
		return varint(1e6, true)
	case scan.PBZigzagE7:
		return varint(1e7, true)
	case scan.Geohash:
		return []byte(" " + EncodeGeohash(lat, lon, 9) + " "), 1
	}
	panic("scantest: no plant for " + enc.String())
}

// DecimalPair prints a pair as text with the given decimals, decimal mark and separator; the
// pair starts at offset 0.
func DecimalPair(a, b float64, decimals int, mark, sep string) []byte {
	s := fmt.Sprintf("%.*f%s%.*f", decimals, a, sep, decimals, b)
	if mark != "." {
		s = fmt.Sprintf("%s%s%s", strings.Replace(fmt.Sprintf("%.*f", decimals, a), ".", mark, 1), sep,
			strings.Replace(fmt.Sprintf("%.*f", decimals, b), ".", mark, 1))
	}
	return []byte(s)
}

// EncodeGeohash writes the geohash of n characters of a position.
func EncodeGeohash(lat, lon float64, n int) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	var out []byte
	even, v, nb := true, 0, 0
	for len(out) < n {
		if even {
			mid := (lonLo + lonHi) / 2
			if lon >= mid {
				v, lonLo = v<<1|1, mid
			} else {
				v, lonHi = v<<1, mid
			}
		} else {
			mid := (latLo + latHi) / 2
			if lat >= mid {
				v, latLo = v<<1|1, mid
			} else {
				v, latHi = v<<1, mid
			}
		}
		even = !even
		if nb++; nb == 5 {
			out, v, nb = append(out, alphabet[v]), 0, 0
		}
	}
	return string(out)
}

// Package scan is the known-value coordinate search: it finds latitude/longitude pairs in any
// bytes, in every encoding a vendor may use, when the pair falls inside a target (a sensitive
// zone, widened by the encoding's precision, or near the flown track). It is the method of
// capture-and-performance.md §9.1–9.3: a structural decoder sees a position only when it knows
// the format; the search sees it whatever the format, because the lab knows where to look.
//
// The search is two-stage. A table indexed by every pair of adjacent bytes says which binary
// encodings could have the top bits of a value inside the targets' box there (the top 16 bits
// of a float64 or of an int32 narrow to a handful of values for a box of a few kilometres), and
// which text forms could start there; only those positions are decoded and checked exactly.
package scan

import "math"

// Encoding names how a pair of coordinates was written. Each has a stable name (String) that
// goes into the evidence.
type Encoding uint8

// The encodings the search finds. LE and BE are little- and big-endian; E5, E6, E7 are degrees
// scaled by 1e5, 1e6, 1e7 to integers; Rad are radians.
const (
	DecimalText Encoding = iota // printed decimal degrees, 2 or more decimals, '.' or ','

	Int32E5LE
	Int32E5BE
	Int32E6LE
	Int32E6BE
	Int32E7LE
	Int32E7BE
	Int64E5LE
	Int64E5BE
	Int64E6LE
	Int64E6BE
	Int64E7LE
	Int64E7BE
	Int32RadE7LE // radians × 1e7 as int32 (DJI DroneID)
	Int32RadE7BE
	Float32DegLE
	Float32DegBE
	Float64DegLE
	Float64DegBE
	Float32RadLE
	Float32RadBE
	Float64RadLE // DJI DUML OSD and home point
	Float64RadBE

	// Protobuf fields (protobuf.dev/programming-guides/encoding): the fixed-width little-endian
	// forms above, each value preceded by a field key of wire type 5 (fixed32) or 1 (fixed64).
	PBSfixed32E5
	PBSfixed32E6
	PBSfixed32E7
	PBSfixed64E5
	PBSfixed64E6
	PBSfixed64E7
	PBFloat
	PBDouble
	// Protobuf varints (wire type 0) of the scaled integers: int32/int64 (two's complement,
	// "plain") and sint32/sint64 (zig-zag).
	PBVarintE5
	PBVarintE6
	PBVarintE7
	PBZigzagE5
	PBZigzagE6
	PBZigzagE7

	Geohash // base-32 geohash of 5 to 12 characters (one token for both coordinates)

	// Integers printed as decimal text, degrees scaled by 1e5, 1e6, 1e7 ("511693000" degE7).
	TextE5
	TextE6
	TextE7

	numEncodings
)

var encodingNames = [numEncodings]string{
	DecimalText:  "decimal-text",
	Int32E5LE:    "int32le-e5",
	Int32E5BE:    "int32be-e5",
	Int32E6LE:    "int32le-e6",
	Int32E6BE:    "int32be-e6",
	Int32E7LE:    "int32le-e7",
	Int32E7BE:    "int32be-e7",
	Int64E5LE:    "int64le-e5",
	Int64E5BE:    "int64be-e5",
	Int64E6LE:    "int64le-e6",
	Int64E6BE:    "int64be-e6",
	Int64E7LE:    "int64le-e7",
	Int64E7BE:    "int64be-e7",
	Int32RadE7LE: "int32le-rad-e7",
	Int32RadE7BE: "int32be-rad-e7",
	Float32DegLE: "float32le-deg",
	Float32DegBE: "float32be-deg",
	Float64DegLE: "float64le-deg",
	Float64DegBE: "float64be-deg",
	Float32RadLE: "float32le-rad",
	Float32RadBE: "float32be-rad",
	Float64RadLE: "float64le-rad",
	Float64RadBE: "float64be-rad",
	PBSfixed32E5: "protobuf-sfixed32-e5",
	PBSfixed32E6: "protobuf-sfixed32-e6",
	PBSfixed32E7: "protobuf-sfixed32-e7",
	PBSfixed64E5: "protobuf-sfixed64-e5",
	PBSfixed64E6: "protobuf-sfixed64-e6",
	PBSfixed64E7: "protobuf-sfixed64-e7",
	PBFloat:      "protobuf-float-deg",
	PBDouble:     "protobuf-double-deg",
	PBVarintE5:   "protobuf-varint-e5",
	PBVarintE6:   "protobuf-varint-e6",
	PBVarintE7:   "protobuf-varint-e7",
	PBZigzagE5:   "protobuf-zigzag-e5",
	PBZigzagE6:   "protobuf-zigzag-e6",
	PBZigzagE7:   "protobuf-zigzag-e7",
	Geohash:      "geohash",
	TextE5:       "text-int-e5",
	TextE6:       "text-int-e6",
	TextE7:       "text-int-e7",
}

// String returns the encoding's stable name, e.g. "int32le-e7".
func (e Encoding) String() string {
	if e < numEncodings {
		return encodingNames[e]
	}
	return "unknown"
}

// Encodings returns every encoding the search knows, in a fixed order.
func Encodings() []Encoding {
	out := make([]Encoding, numEncodings)
	for i := range out {
		out[i] = Encoding(i)
	}
	return out
}

// Order says which of the two coordinates came first in the bytes.
type Order uint8

// The two orders of a pair.
const (
	LatLon Order = iota
	LonLat
)

func (o Order) String() string {
	if o == LonLat {
		return "lon,lat"
	}
	return "lat,lon"
}

// Wrapping says through which text encoding of binary bytes a hit was found.
type Wrapping uint8

// The wrappings the search opens: none (the bytes as they are), hex, base64 (standard or URL
// alphabet), percent-encoding (RFC 3986 §2.1).
const (
	Plain Wrapping = iota
	Hex
	Base64
	Percent
)

func (w Wrapping) String() string {
	switch w {
	case Hex:
		return "hex"
	case Base64:
		return "base64"
	case Percent:
		return "percent"
	}
	return ""
}

// metresPerDegree is one degree of latitude on the WGS84 mean sphere, as geo uses it.
const metresPerDegree = 6371008.8 * math.Pi / 180

// radToDeg converts radians to degrees.
const radToDeg = 180 / math.Pi

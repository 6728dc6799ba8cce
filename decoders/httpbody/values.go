package httpbody

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"droneaudit/decoders"
)

// Encoded-value kinds.
const (
	KindBase64    = "base64"
	KindBase64URL = "base64url"
	KindHex       = "hex"
	KindPercent   = "percent"
)

// Bounds of FindEncoded, used when FindLimits leaves them zero.
const (
	DefaultMinEncoded = 16
	DefaultMaxValues  = 256
	DefaultMaxDecoded = 1 << 20
	// maxRun bounds the encoded run decoded as one value: a longer one is an object, not a value,
	// and is left to the object reader.
	maxRun = 256 << 10
)

// FindLimits bounds FindEncoded.
type FindLimits struct {
	MinLen     int // shortest encoded run considered (DefaultMinEncoded when 0)
	MaxValues  int // values returned (DefaultMaxValues when 0)
	MaxDecoded int // decoded bytes returned in all (DefaultMaxDecoded when 0)
}

// Value is an encoded run found in a body, with what it decodes to.
type Value struct {
	Kind string
	// In says where the run was found: "" for the body, "field N" for the decoded value of a
	// form's field N (0-based), whose offsets are then in that value.
	In      string
	Offset  int64 // offset of the run in the data searched
	Len     int   // length of the run as encoded
	Decoded []byte
}

// FindEncoded finds runs of base64 (standard and URL-safe, padded or not), hex and
// percent-encoding in data whose decoded bytes are worth a search: mostly printable UTF-8 text,
// or the start of a known object (gzip, zstd, JPEG, PNG, ZIP, JSON). Runs shorter than MinLen are
// not considered; a hex run is not also read as base64. Values come in offset order; the note
// says when a bound stopped the search.
func FindEncoded(data []byte, lim FindLimits) ([]Value, []decoders.Note) {
	minLen, maxVals, maxDec := lim.MinLen, lim.MaxValues, lim.MaxDecoded
	if minLen <= 0 {
		minLen = DefaultMinEncoded
	}
	if maxVals <= 0 {
		maxVals = DefaultMaxValues
	}
	if maxDec <= 0 {
		maxDec = DefaultMaxDecoded
	}
	f := finder{data: data, minLen: minLen, maxVals: maxVals, left: maxDec, stopped: -1}
	f.percent()
	f.alphabet()
	slices.SortStableFunc(f.out, func(a, b Value) int { return cmp.Compare(a.Offset, b.Offset) })
	var notes []decoders.Note
	if f.stopped >= 0 {
		notes = append(notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeTooLarge, Offset: f.stopped,
			Message: "encoded-value search stopped at its bound (" + strconv.Itoa(maxVals) + " values, " + strconv.Itoa(maxDec) + " decoded bytes)"})
	}
	return f.out, notes
}

type finder struct {
	data          []byte
	minLen        int
	maxVals, left int
	out           []Value
	stopped       int64
}

// add keeps a decoded run if it is worth it and the bounds allow; false once they do not.
func (f *finder) add(kind string, off, n int, dec []byte) bool {
	if len(f.out) >= f.maxVals || len(dec) > f.left {
		if f.stopped < 0 {
			f.stopped = int64(off)
		}
		return false
	}
	if !worth(dec) {
		return true
	}
	f.left -= len(dec)
	f.out = append(f.out, Value{Kind: kind, Offset: int64(off), Len: n, Decoded: dec})
	return true
}

// percent finds runs of URL characters holding at least three %XX escapes.
func (f *finder) percent() {
	b := f.data
	for i := 0; i < len(b); {
		if !urlByte(b[i]) {
			i++
			continue
		}
		start, escapes := i, 0
		for i < len(b) && urlByte(b[i]) {
			if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
				escapes++
				i += 3
				continue
			}
			i++
		}
		n := i - start
		if escapes < 3 || n < f.minLen || n > maxRun {
			continue
		}
		dec, err := url.QueryUnescape(string(b[start:i]))
		if err == nil && !f.add(KindPercent, start, n, []byte(dec)) {
			return
		}
	}
}

// alphabet finds runs of the base64 alphabets (hex is a subset) and decodes them.
func (f *finder) alphabet() {
	b := f.data
	for i := 0; i < len(b); {
		if !b64Byte(b[i]) {
			i++
			continue
		}
		start := i
		std, urlsafe, hexOnly := false, false, true
		for i < len(b) && b64Byte(b[i]) {
			switch c := b[i]; {
			case c == '+' || c == '/':
				std = true
			case c == '-' || c == '_':
				urlsafe = true
			}
			hexOnly = hexOnly && isHex(b[i])
			i++
		}
		end := i
		for i < len(b) && i-end < 2 && b[i] == '=' {
			i++
		}
		n := i - start
		if n < f.minLen || n > maxRun || (std && urlsafe) {
			continue
		}
		if start > 0 && b[start-1] == '%' { // inside a percent-encoded run
			continue
		}
		run := b[start:i]
		var kind string
		var dec []byte
		switch {
		case hexOnly && (end-start)%2 == 0 && i == end:
			kind = KindHex
			dec = make([]byte, (end-start)/2)
			if _, err := hex.Decode(dec, run); err != nil {
				continue
			}
		default:
			enc := base64.RawStdEncoding
			kind = KindBase64
			if urlsafe {
				enc, kind = base64.RawURLEncoding, KindBase64URL
			}
			raw := b[start:end]
			if (end-start)%4 == 1 {
				continue // no base64 text has this length
			}
			dec = make([]byte, enc.DecodedLen(len(raw)))
			m, err := enc.Decode(dec, raw)
			if err != nil {
				continue
			}
			dec = dec[:m]
		}
		if !f.add(kind, start, n, dec) {
			return
		}
	}
}

// worth reports whether decoded bytes are text or a known object.
func worth(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, magic := range [][]byte{{0x1f, 0x8b}, {0x28, 0xb5, 0x2f, 0xfd}, {0xff, 0xd8, 0xff}, {0x89, 'P', 'N', 'G'}, {'P', 'K', 3, 4}} {
		if bytes.HasPrefix(b, magic) {
			return true
		}
	}
	if !utf8.Valid(b) {
		return false
	}
	printable := 0
	for _, r := range string(b) {
		if r >= 0x20 && r != 0x7f || r == '\n' || r == '\r' || r == '\t' {
			printable++
		}
	}
	return printable*10 >= utf8.RuneCount(b)*9
}

// Byte classes, as tables: the search looks at every byte of a body.
var hexTab, b64Tab, urlTab [256]bool

func init() {
	for c := range 256 {
		b := byte(c)
		alnum := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
		hexTab[c] = b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
		b64Tab[c] = alnum || b == '+' || b == '/' || b == '-' || b == '_'
		// The characters a percent-encoded value is made of (RFC 3986 unreserved and
		// sub-delimiters, '%', and '+' for a space in forms), without '&' and '=', which end a value.
		urlTab[c] = alnum || strings.IndexByte("%-._~!$'()*+,;:@/", b) >= 0
	}
}

func isHex(c byte) bool   { return hexTab[c] }
func b64Byte(c byte) bool { return b64Tab[c] }
func urlByte(c byte) bool { return urlTab[c] }

package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"

	"droneaudit/geo"
)

// ndjsonFixes writes each fix as one line of JSON: byte for byte what a json.Encoder with HTML
// escaping off writes for NewFixRecord(f) (newZonedRecord(f, z) with --in-zone), without
// reflection. The fields are appended in FixRecord's order. What stays the same from fix to fix
// is encoded once and reused (lineCache): the alt_ref field, the run of fields from role to the
// input's SHA-256, and the channel, constant per input and message type; and the date, hour and
// minute of the time. A fix the fast path cannot vouch for (a NaN or infinite number, an IPv6
// zone in its flow) goes through the reference encoder, which reports what it cannot encode as
// it always did.
//
// Lines are gathered in buf and handed to w in blocks of about ndjsonBlock bytes, and at Close:
// one call per block instead of one per fix, and a bufio.Writer passes a block through without
// copying it.
type ndjsonFixes struct {
	w     io.Writer
	buf   []byte
	kinds lineCache
	clock minuteCache
}

const ndjsonBlock = 64 << 10

func (n *ndjsonFixes) Write(f *geo.Fix) error { return n.write(f, nil) }

// write appends f's line; z, from FixOptions.InZone, adds the zone fields at its end.
func (n *ndjsonFixes) write(f *geo.Fix, z *ZoneMatch) error {
	ev := &f.Evidence
	alt := 0.0
	if f.HasAlt {
		alt = round3(f.AltM)
	}
	// Below 1e300, rounding to millimetres cannot overflow: the precision prints as a finite
	// number. The fast path checks the raw value, the lineCache rounds it on a miss.
	if !finite(f.Lat) || !finite(f.Lon) || !(math.Abs(f.PrecisionM) < 1e300) || !finite(alt) || ev.Network != nil && zoned(ev.Network) || ev.Request != nil {
		return n.reference(f, z)
	}
	k := n.kinds.get(f)
	b := append(n.buf, `{"lat":`...)
	b = appendJSONFloat(b, f.Lat)
	b = append(b, `,"lon":`...)
	b = appendJSONFloat(b, f.Lon)
	if f.HasAlt {
		b = append(b, `,"alt_m":`...)
		b = appendJSONFloat(b, alt)
		b = append(b, k.altRef...)
	}
	if !f.Time.IsZero() {
		// RFC 3339 text is plain ASCII: nothing in it needs escaping.
		b = append(b, `,"time":"`...)
		b = n.clock.appendRFC3339Nano(b, f.Time)
		b = append(b, '"')
	}
	b = append(b, k.mid...)
	b = appendJSONString(b, ev.Locator)
	b = append(b, `,"offset":`...)
	b = appendInt(b, ev.Offset)
	if ev.Network == nil && ev.Broadcast == nil && ev.Note == "" && z == nil {
		// The usual line: the channel and the end of the line in one piece.
		n.buf = append(b, k.channelEnd...)
	} else {
		n.buf = appendRest(append(b, k.channelEnd[:len(k.channelEnd)-2]...), ev, z)
	}
	if len(n.buf) >= ndjsonBlock {
		return n.flush()
	}
	return nil
}

// appendRest appends the fields after the channel (network, broadcast, note, zone) and ends the
// line.
func appendRest(b []byte, ev *geo.Evidence, z *ZoneMatch) []byte {
	if ev.Network != nil {
		b = append(b, `,"network":`...)
		b = ev.Network.AppendJSON(b)
	}
	if bc := ev.Broadcast; bc != nil {
		b = append(b, `,"broadcast":{"transmitter":`...)
		b = appendJSONString(b, bc.Transmitter)
		b = append(b, `,"kind":`...)
		b = appendJSONString(b, bc.Kind)
		if bc.FreqMHz != 0 {
			b = append(b, `,"freq_mhz":`...)
			b = strconv.AppendInt(b, int64(bc.FreqMHz), 10)
		}
		if bc.SignalDBm != 0 {
			b = append(b, `,"signal_dbm":`...)
			b = strconv.AppendInt(b, int64(bc.SignalDBm), 10)
		}
		b = append(b, '}')
	}
	if ev.Note != "" {
		b = append(b, `,"note":`...)
		b = appendJSONString(b, ev.Note)
	}
	if z != nil {
		b = append(b, `,"zone":`...)
		b = appendJSONString(b, z.Name)
		b = append(b, `,"zone_distance_m":`...)
		b = appendJSONFloat(b, z.DistanceM)
	}
	return append(b, '}', '\n')
}

// Close writes the lines still held.
func (n *ndjsonFixes) Close() error { return n.flush() }

func (n *ndjsonFixes) flush() error {
	if len(n.buf) == 0 {
		return nil
	}
	_, err := n.w.Write(n.buf)
	n.buf = n.buf[:0]
	return err
}

// newZonedRecord is NewFixRecord with the zone fields of FixOptions.InZone.
func newZonedRecord(f geo.Fix, z *ZoneMatch) FixRecord {
	r := NewFixRecord(f)
	if z != nil {
		d := z.DistanceM
		r.Zone, r.ZoneDistanceM = z.Name, &d
	}
	return r
}

// reference adds the line encoding/json writes for f, as the writer did before it appended bytes
// itself; a fix it cannot encode adds nothing.
func (n *ndjsonFixes) reference(f *geo.Fix, z *ZoneMatch) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(newZonedRecord(*f, z)); err != nil {
		return err
	}
	n.buf = append(n.buf, line.Bytes()...)
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// round3 is round(v, 3), the millimetre rounding of NewFixRecord, bit for bit (math.Pow10(3) is
// exactly 1000), without the call to Pow10.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// zoned reports whether a flow address carries an IPv6 zone: free text that Network.AppendJSON
// copies unescaped, so only the reference encoder (which validates what MarshalJSON returns)
// may write it.
func zoned(nw *geo.Network) bool { return nw.Src.Addr().Zone() != "" || nw.Dst.Addr().Zone() != "" }

// lineCache holds the encodings of the fields that a kind of fix shares, for the last few kinds:
// a log gives the same few (one per message type) for all its fixes; a capture a few per flow.
type lineCache struct {
	entries [4]lineKind
	next    int // the entry to replace on a miss
}

// lineKind is one kind of fix: what identifies it, and its encoded fields.
type lineKind struct {
	role                       geo.Role
	precision                  uint64 // bits of PrecisionM before rounding: -0 and 0 print differently
	decoder, message, encoding string
	input, sha256, altRefValue string
	channel                    geo.Channel
	// altRef is `,"alt_ref":…`, empty when AltRef is.
	altRef []byte
	// mid is `,"role":…,"precision_m":…,"decoder":…[,"message":…][,"encoding":…],"input":…,"sha256":…,"locator":`.
	mid []byte
	// channelEnd is `,"channel":…}` and the newline.
	channelEnd []byte
}

func (k *lineKind) is(f *geo.Fix) bool {
	ev := &f.Evidence
	return k.mid != nil && same(k.message, ev.Message) && k.precision == math.Float64bits(f.PrecisionM) &&
		same(string(k.role), string(f.Role)) && same(k.decoder, ev.Decoder) && same(k.encoding, ev.Encoding) &&
		same(k.input, ev.Input) && same(k.sha256, ev.SHA256) && same(k.altRefValue, f.AltRef) &&
		same(string(k.channel), string(ev.Channel))
}

// isSame is is, true only when every string field of f is the entry's own string (its bytes at
// the same address) or empty in both: no bytes are compared, so a wrong entry fails fast.
func (k *lineKind) isSame(f *geo.Fix) bool {
	ev := &f.Evidence
	return k.mid != nil && sameData(k.message, ev.Message) && k.precision == math.Float64bits(f.PrecisionM) &&
		sameData(string(k.role), string(f.Role)) && sameData(k.decoder, ev.Decoder) && sameData(k.encoding, ev.Encoding) &&
		sameData(k.input, ev.Input) && sameData(k.sha256, ev.SHA256) && sameData(k.altRefValue, f.AltRef) &&
		sameData(string(k.channel), string(ev.Channel))
}

// sameData reports whether a and b are the same bytes in memory (so a == b), or both empty.
func sameData(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || len(a) == 0)
}

// same is a == b. The fields of a kind of fix are nearly always the very strings the entry was
// made from (a decoder's constants, the input's name and hash): when a and b share their bytes
// the answer needs no call to compare them. Only the addresses are compared; nothing is read
// through them.
func same(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

func (c *lineCache) get(f *geo.Fix) *lineKind {
	// Nearly always the fields are the very strings of an entry: look for that first, where a
	// wrong entry fails at its first field without comparing bytes (a log's message types
	// alternate, and their names are of one length).
	for i := range c.entries {
		if k := &c.entries[i]; k.isSame(f) {
			return k
		}
	}
	for i := range c.entries {
		if k := &c.entries[i]; k.is(f) {
			return k
		}
	}
	k := &c.entries[c.next]
	c.next = (c.next + 1) % len(c.entries)
	ev := &f.Evidence
	*k = lineKind{role: f.Role, precision: math.Float64bits(f.PrecisionM), decoder: ev.Decoder, message: ev.Message, encoding: ev.Encoding,
		input: ev.Input, sha256: ev.SHA256, altRefValue: f.AltRef, channel: ev.Channel,
		altRef: k.altRef[:0], mid: k.mid[:0], channelEnd: k.channelEnd[:0]}
	if f.AltRef != "" {
		k.altRef = appendJSONString(append(k.altRef, `,"alt_ref":`...), f.AltRef)
	}
	b := append(k.mid, `,"role":`...)
	b = appendJSONString(b, string(f.Role))
	b = append(b, `,"precision_m":`...)
	b = appendJSONFloat(b, round3(f.PrecisionM))
	b = append(b, `,"decoder":`...)
	b = appendJSONString(b, ev.Decoder)
	if ev.Message != "" {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, ev.Message)
	}
	if ev.Encoding != "" {
		b = append(b, `,"encoding":`...)
		b = appendJSONString(b, ev.Encoding)
	}
	b = append(b, `,"input":`...)
	b = appendJSONString(b, ev.Input)
	b = append(b, `,"sha256":`...)
	b = appendJSONString(b, ev.SHA256)
	k.mid = append(b, `,"locator":`...)
	k.channelEnd = append(appendJSONString(append(k.channelEnd, `,"channel":`...), string(ev.Channel)), '}', '\n')
	return k
}

// minuteCache holds the RFC 3339 text of one UTC minute, "2006-01-02T15:04:", so that a time in
// the same minute as the one before costs its seconds and fraction only.
type minuteCache struct {
	minute int64 // Unix time of the minute, in minutes
	prefix []byte
}

// Unix times of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. Times outside (none a decoder
// makes) are left to time.Time.AppendFormat, far from any overflow of the minute arithmetic.
const (
	minRFC3339Unix = -62135596800
	maxRFC3339Unix = 253402300799
)

// appendRFC3339Nano appends t.UTC().Format(time.RFC3339Nano): seconds, then a fraction with its
// trailing zeros removed (none when it is zero), then Z.
func (c *minuteCache) appendRFC3339Nano(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < minRFC3339Unix || sec > maxRFC3339Unix {
		return t.UTC().AppendFormat(b, time.RFC3339Nano)
	}
	minute, s := sec/60, sec%60
	if s < 0 {
		minute, s = minute-1, s+60
	}
	if c.prefix == nil || minute != c.minute {
		c.minute = minute
		p := time.Unix(minute*60, 0).UTC().AppendFormat(c.prefix[:0], time.RFC3339)
		c.prefix = p[:len(p)-len("00Z")]
	}
	// "SS", ".nnnnnnnnn" without its trailing zeros, "Z": stored after the prefix at once.
	b = append(b, c.prefix...)
	b, d := room(b)
	d[0], d[1] = twoDigits[2*s], twoDigits[2*s+1]
	n := 2
	if ns := uint32(t.Nanosecond()); ns != 0 {
		d[2], d[3] = '.', byte('0'+ns/1e8)
		w := digits8(ns % 1e8)
		binary.LittleEndian.PutUint64(d[4:], w)
		// When all eight are zeros, the first digit (d[3]) is not: ns != 0.
		n = 12 - bits.LeadingZeros64(w^asciiZeros)/8
	}
	d[n] = 'Z'
	return b[:len(b)+n+1]
}

package mavlink

import (
	"encoding/binary"
	"time"
)

// A tlog record is an 8-byte microsecond UTC timestamp followed by one MAVLink frame, with no
// length and no padding (mavlink-dataflash-ulog.md §4.1). Writers disagree on the details, so the
// walk (§4.4) accepts what real files contain: big-endian timestamps (the standard) or the
// little-endian ones of 2012-era QGroundControl, MAVProxy's link number in the low two bits,
// one-byte console-text records, frames cut or damaged inside an otherwise regular record
// stream, and junk between records.

// Record is one record of a tlog.
type Record struct {
	Index  int    // 1-based
	Offset int64  // file offset of the timestamp
	TS     uint64 // as stored: µs since 1970 UTC; low 2 bits = MAVProxy link number
	Frame  *Frame // nil for a text record or a bad record
	Text   byte   // the byte of a one-byte text record
	// Bad is set for a record whose frame fails its checksum or is cut short while the records
	// around it are regular: its bytes are evidence, but it is not decoded.
	Bad bool
}

// Time returns the record's timestamp.
func (r *Record) Time() time.Time { return time.UnixMicro(int64(r.TS)).UTC() }

// Link returns MAVProxy's link number; 3 marks a frame MAVProxy itself sent (§4.2).
func (r *Record) Link() int { return int(r.TS & 3) }

// TlogStats summarises a walk.
type TlogStats struct {
	Records      int
	Frames       int // verified and unverified frames
	Unverified   int
	TextRecords  int
	BadRecords   int
	SkippedBytes int64
	LittleEndian bool // the legacy little-endian timestamp variant
	// CutAt is the offset of a last record that the end of the data cuts short (in its
	// timestamp or its frame), -1 when the data ends at a record boundary or in junk. Its
	// CutLen bytes are not counted as skipped.
	CutAt  int64
	CutLen int
}

// window of timestamp plausibility used to resynchronise: ±3 days, as pymavlink's scan_timestamp.
const nearUS = 3 * 24 * 3600 * 1e6

func near(a, b uint64) bool {
	if a > b {
		return a-b <= nearUS
	}
	return b-a <= nearUS
}

// plausibleAbs accepts timestamps between 2000 and 2100; used only to choose the byte order.
func plausibleAbs(ts uint64) bool {
	return ts >= 946684800e6 && ts < 4102444800e6
}

// lookahead is how far past a record start the walk needs to see: this record and the next.
const lookahead = 2 * (8 + MaxFrame)

// sniffTlog reports whether b starts with a tlog record, and in which byte order.
func sniffTlog(b []byte) (ok, littleEndian bool) {
	if len(b) < 8+8 {
		return false, false
	}
	if _, st := candidate(b[8:]); st == stOK {
		be, le := binary.BigEndian.Uint64(b), binary.LittleEndian.Uint64(b)
		return true, !plausibleAbs(be) && plausibleAbs(le)
	}
	le := binary.LittleEndian.Uint64(b)
	if plausibleAbs(le) && !plausibleAbs(binary.BigEndian.Uint64(b)) && (b[8] == STXv1 || b[8] == STXv2) {
		// Legacy capture whose first frame does not verify: decide by a second record at the
		// frame's stride.
		for _, stride := range strides(b[8:]) {
			nx := 8 + stride
			if nx+9 <= len(b) && near(binary.LittleEndian.Uint64(b[nx:]), le) && (b[nx+8] == STXv1 || b[nx+8] == STXv2) {
				return true, true
			}
		}
	}
	return false, false
}

// strides returns the possible record payload lengths of a frame-like start at b: the whole
// frame, and the payload-length-only cut that 2012-era writers produced (§4.3).
func strides(b []byte) []int {
	if len(b) < 2 {
		return nil
	}
	plen := int(b[1])
	switch b[0] {
	case STXv1:
		return []int{8 + plen, plen}
	case STXv2:
		if len(b) >= 3 && b[2]&1 != 0 {
			return []int{12 + plen + 13, plen}
		}
		return []int{12 + plen, plen}
	}
	return nil
}

// walkTlog walks the records of a tlog. fn receives each record (its Frame aliases the walk's
// buffer, valid during the call); junk receives runs of bytes that are in no record.
func walkTlog(w *window, littleEndian bool, fn func(*Record), junk func(off int64, n int)) (TlogStats, error) {
	var order binary.ByteOrder = binary.BigEndian
	if littleEndian {
		order = binary.LittleEndian
	}
	st := TlogStats{LittleEndian: littleEndian, CutAt: -1}
	var pos int64
	var lastTS uint64
	haveLast := false
	runStart := int64(-1)
	flush := func(end int64) {
		if runStart >= 0 {
			junk(runStart, int(end-runStart))
			st.SkippedBytes += end - runStart
			runStart = -1
		}
	}
	emit := func(r *Record) {
		flush(pos)
		st.Records++
		r.Index = st.Records
		r.Offset = pos
		fn(r)
		lastTS, haveLast = r.TS, true
	}
	// nextOK reports whether b (the bytes after a candidate record) is the end of the data or
	// starts with a record whose timestamp is near ts.
	// With loose, a following record only needs a near timestamp and a start byte: in a run of
	// damaged records (the 2012 capture) no frame verifies, yet the stride is regular.
	nextOK := func(b []byte, ts uint64, loose bool) bool {
		if len(b) == 0 {
			return true
		}
		if len(b) < 9 || !near(order.Uint64(b), ts) {
			return false
		}
		if b[8] != STXv1 && b[8] != STXv2 {
			return true // a text record
		}
		if loose {
			return true
		}
		_, cs := candidate(b[8:])
		return cs == stOK || cs == stShort
	}
	// cutRecord reports whether b, the last bytes of the data, starting where the previous record
	// ended, are the start of a record: a timestamp cut short, or a plausible timestamp and a
	// frame that runs past the end.
	cutRecord := func(b []byte) bool {
		if len(b) < 8 {
			return true
		}
		ts := order.Uint64(b)
		if haveLast && !near(ts, lastTS) || !haveLast && !plausibleAbs(ts) {
			return false
		}
		if len(b) == 8 {
			return true
		}
		for _, stride := range strides(b[8:]) {
			if 8+stride == len(b) {
				return false // a whole record of a 2012-era writer, cut by the writer itself (§4.3)
			}
		}
		_, cs := candidate(b[8:])
		return cs == stShort
	}
	for pos < w.size {
		b, err := w.at(pos, lookahead)
		if err != nil {
			return st, err
		}
		if runStart < 0 && pos+int64(len(b)) == w.size && len(b) < lookahead && cutRecord(b) {
			st.CutAt, st.CutLen = pos, len(b)
			pos = w.size
			break
		}
		if len(b) < 9 {
			if runStart < 0 {
				runStart = pos
			}
			pos += int64(len(b))
			break
		}
		ts := order.Uint64(b)
		f, cs := candidate(b[8:])
		if cs == stOK || cs == stUnknown && nextOK(b[8+len(f.Raw):], ts, false) {
			rec := Record{TS: ts, Frame: &f}
			emit(&rec)
			st.Frames++
			if !f.Verified {
				st.Unverified++
			}
			pos += 8 + int64(len(f.Raw))
			continue
		}
		plausible := !haveLast || near(ts, lastTS)
		if plausible && b[8] != STXv1 && b[8] != STXv2 && nextOK(b[9:], ts, false) && len(b) > 9 {
			rec := Record{TS: ts, Text: b[8]}
			emit(&rec)
			st.TextRecords++
			pos += 9
			continue
		}
		if plausible && (b[8] == STXv1 || b[8] == STXv2) && (haveLast || littleEndian) {
			matched := false
			for _, stride := range strides(b[8:]) {
				end := 8 + stride
				if end <= len(b) && (pos+int64(end) == w.size || nextOK(b[end:], ts, true) && end < len(b)) {
					rec := Record{TS: ts, Bad: true}
					emit(&rec)
					st.BadRecords++
					pos += int64(end)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		if runStart < 0 {
			runStart = pos
		}
		pos++
	}
	flush(pos)
	return st, nil
}

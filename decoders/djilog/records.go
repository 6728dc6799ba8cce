package djilog

import "encoding/binary"

// Record framing (formats §4; lvauvillier/dji-log-parser@88fcfc96:src/record/mod.rs and DJI's
// flight_record_version13_decoder.cpp):
//
//	v≤12: [type u8][len u8 ][payload len bytes][0xFF]
//	v≥13: [type u8][len u16][payload len bytes][0xFF]
//
// From v7 the payload is [seed][scrambled content][check] (scramble.go).

const recordEnd = 0xFF

// record is one framed record. Payload is valid until the next call to walker.next.
type record struct {
	Type    byte
	Offset  int64 // file offset of the type byte
	Index   int   // 1-based among the good records of the file
	Payload []byte
	Key     uint64 // XOR key when scrambled
}

// frameStatus is the verdict on the bytes at one candidate offset.
type frameStatus int

const (
	frameOK       frameStatus = iota
	frameShort                // not enough bytes left in the region for the declared length
	frameBroken               // no 0xFF where the length says the record ends, or too short to be scrambled
	frameBadCheck             // framed, but the check byte does not match
)

// walker steps through the records of [start, end) and resynchronises after damage.
type walker struct {
	w         *window
	hlen      int // 2 or 3
	scrambled bool
	mv        byte
	// stopAtTail makes a framing failure at the 12345 marker or a JPEG start end the records: used
	// when the details block is unusable and the end of records is unknown (formats §7).
	stopAtTail bool

	good       int
	badCheck   int
	skipped    int64 // bytes skipped while resynchronising
	truncated  bool  // the region ended inside a record
	cutAt      int64 // offset of that record
	cutHave    int   // its bytes present
	cutNeed    int   // its length as declared, 0 when its header is cut
	cutType    byte
	endedAt    string
	lastBadOff int64 // start of the current run of skipped bytes, -1 when in sync
	runs       []junkRun
	runsLost   int
	badChecks  []int64 // offsets of the first bad-check records, bounded
}

// junkRun is one stretch of bytes skipped while resynchronising.
type junkRun struct {
	Offset int64
	Len    int64
}

// maxReported bounds how many individual damage spots are kept for notes.
const maxReported = 32

func newWalker(w *window, p prefix, scrambled bool) *walker {
	hlen := 2
	if p.lenWidth() == 2 {
		hlen = 3
	}
	return &walker{w: w, hlen: hlen, scrambled: scrambled, mv: p.magicVer, lastBadOff: -1}
}

// frameAt judges the record candidate at the start of b and returns its total length (header,
// payload, end byte). b may be shorter than the record; then the status is frameShort.
func (k *walker) frameAt(b []byte) (int, frameStatus, uint64) {
	if len(b) < k.hlen {
		return 0, frameShort, 0
	}
	n := int(b[1])
	if k.hlen == 3 {
		n = int(binary.LittleEndian.Uint16(b[1:]))
	}
	total := k.hlen + n + 1
	if len(b) < total {
		return total, frameShort, 0
	}
	if b[total-1] != recordEnd {
		return total, frameBroken, 0
	}
	if !k.scrambled {
		return total, frameOK, 0
	}
	if n < 3 { // DJI's routine rejects payloads of two bytes or fewer
		return total, frameBroken, 0
	}
	key, ok := checkScrambled(b[k.hlen:total-1], b[0], k.mv)
	if !ok {
		return total, frameBadCheck, key
	}
	return total, frameOK, key
}

// maxRecord is the largest possible record: 3-byte header, 65535-byte payload, end byte.
const maxRecord = 3 + 0xFFFF + 1

// next returns the next good record, or false at the end of the region.
func (k *walker) next() (record, bool) {
	for {
		off := k.w.offset()
		b := k.w.peek(k.hlen + 256) // enough for any u8-length record
		if len(b) == 0 {
			k.endRun(off)
			return record{}, false
		}
		if k.stopAtTail && k.lastBadOff < 0 && k.tailFirst(b) {
			k.endedAt = "tail"
			return record{}, false
		}
		total, st, key := k.frameAt(b)
		if st == frameShort && total > len(b) {
			b = k.w.peek(total)
			total, st, key = k.frameAt(b)
		}
		switch st {
		case frameOK:
			k.endRun(off)
			k.good++
			rec := record{Type: b[0], Offset: off, Index: k.good, Payload: b[k.hlen : total-1], Key: key}
			k.w.skip(total)
			return rec, true
		case frameBadCheck:
			// A framed record whose check fails is skipped whole when a good record follows it
			// (or the region ends there); otherwise the 0xFF was chance and we resynchronise.
			if k.lastBadOff < 0 && k.followedByGood(total) {
				k.badCheck++
				if len(k.badChecks) < maxReported {
					k.badChecks = append(k.badChecks, off)
				}
				k.w.skip(total)
				continue
			}
		case frameShort:
			if k.lastBadOff < 0 && int64(len(b)) == k.w.remaining() {
				// In sync, and the declared length runs past the end: a cut record.
				k.truncated = true
				k.endedAt = "truncated"
				k.cutAt, k.cutHave, k.cutNeed, k.cutType = off, len(b), total, b[0]
				k.w.skip(len(b))
				return record{}, false
			}
		}
		if k.stopAtTail && k.lastBadOff < 0 && atTail(b) {
			k.endedAt = "tail"
			return record{}, false
		}
		if k.lastBadOff < 0 {
			k.lastBadOff = off
		}
		k.skipped++
		k.w.skip(1)
	}
}

// followedByGood reports whether a good record starts total bytes ahead, or the region ends there.
func (k *walker) followedByGood(total int) bool {
	b := k.w.peek(total + maxRecord)
	if len(b) == total && int64(total) == k.w.remaining() {
		return true
	}
	if len(b) <= total {
		return false
	}
	_, st, _ := k.frameAt(b[total:])
	return st == frameOK
}

// tailFirst reports a tail that must end the records even if its bytes happen to frame: a JPEG
// start reads as record type 255, which no version writes, and up to v12 the marker reads as
// type 57, which only v13+ writes (formats §7, §8).
func (k *walker) tailFirst(b []byte) bool {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xD8 {
		return true
	}
	return k.hlen == 2 && atTail(b)
}

// atTail reports whether b starts with the end-of-records marker (int32 12345) or a JPEG.
func atTail(b []byte) bool {
	return (len(b) >= 4 && binary.LittleEndian.Uint32(b) == detailsCheck) ||
		(len(b) >= 2 && b[0] == 0xFF && b[1] == 0xD8)
}

func (k *walker) endRun(off int64) {
	if k.lastBadOff < 0 {
		return
	}
	if len(k.runs) < maxReported {
		k.runs = append(k.runs, junkRun{Offset: k.lastBadOff, Len: off - k.lastBadOff})
	} else {
		k.runsLost++
	}
	k.lastBadOff = -1
}

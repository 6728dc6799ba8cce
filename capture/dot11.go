package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// This file walks 802.11 frames as monitor-mode captures hold them: an optional radiotap header
// (LINKTYPE 127), the 802.11 MAC header, the body, and an optional trailing FCS. Everything is
// walked by hand, bounded by the frame: gopacket's Dot11 layer always cuts the last four bytes as a
// checksum and so loses the last element of frames without FCS (over-the-air.md §2.3 pitfall 1),
// and its element layer misreads vendor elements (pitfalls 2, 3, 5).

// Radiotap holds the radiotap fields the auditor uses. Field layout and alignment rules:
// https://www.radiotap.org/ (header) and https://www.radiotap.org/fields/defined (fields).
type Radiotap struct {
	Len      int    // it_len: the 802.11 frame starts here
	Present  uint32 // first presence word
	HasFlags bool
	// Flags: 0x10 = the frame ends with a 4-byte FCS, 0x40 = the receiver saw a bad FCS,
	// 0x20 = padding between 802.11 header and body.
	Flags        uint8
	HasChannel   bool
	FreqMHz      uint16
	ChannelFlags uint16
	HasSignal    bool
	SignalDBm    int8
	HasTSFT      bool
	TSFT         uint64
}

// Radiotap flag bits (radiotap.org, field "Flags").
const (
	RadiotapFlagFCS    = 0x10
	RadiotapFlagPad    = 0x20
	RadiotapFlagBadFCS = 0x40
)

// radiotapField gives alignment and size of the fields of the radiotap namespace, by presence
// bit, as listed on https://www.radiotap.org/fields/defined. A size of 0 means the field has no
// fixed size (TLVs, bit 28) or is unknown: walking stops there, which is safe because the frame
// starts at it_len whatever fields follow.
var radiotapField = [29]struct{ align, size uint8 }{
	0: {8, 8}, 1: {1, 1}, 2: {1, 1}, 3: {2, 4}, 4: {1, 2}, 5: {1, 1}, 6: {1, 1}, 7: {2, 2},
	8: {2, 2}, 9: {2, 2}, 10: {1, 1}, 11: {1, 1}, 12: {1, 1}, 13: {1, 1}, 14: {2, 2}, 15: {2, 2},
	16: {1, 1}, 17: {1, 1}, 18: {4, 8}, 19: {1, 3}, 20: {4, 8}, 21: {2, 12}, 22: {8, 12},
	23: {2, 12}, 24: {2, 12}, 25: {2, 6}, 26: {1, 1}, 27: {2, 4}, 28: {0, 0},
}

// maxPresentWords bounds the chain of presence words; real drivers use at most a handful.
const maxPresentWords = 16

// Dot11Error says why an 802.11 or radiotap frame could not be walked; Offset is a byte offset
// within the captured frame.
type Dot11Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Dot11Error) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Reason) }

func dot11Err(off int, format string, a ...any) error {
	return &Dot11Error{Offset: off, Reason: fmt.Sprintf(format, a...)}
}

// ParseRadiotap walks a radiotap header by its own presence words and alignment rules.
func ParseRadiotap(b []byte) (Radiotap, error) {
	var rt Radiotap
	if len(b) < 8 {
		return rt, dot11Err(0, "radiotap header cut short: %d bytes", len(b))
	}
	if b[0] != 0 {
		return rt, dot11Err(0, "radiotap version %d, want 0", b[0])
	}
	rt.Len = int(binary.LittleEndian.Uint16(b[2:]))
	if rt.Len < 8 || rt.Len > len(b) {
		return rt, dot11Err(2, "radiotap length %d outside 8..%d", rt.Len, len(b))
	}
	hdr := b[:rt.Len]
	rt.Present = binary.LittleEndian.Uint32(hdr[4:])
	// Count the presence words first: field data starts after the last one.
	words := 1
	for w := rt.Present; w&(1<<31) != 0; words++ {
		if words >= maxPresentWords {
			return rt, dot11Err(4, "more than %d radiotap presence words", maxPresentWords)
		}
		if 4+4*(words+1) > len(hdr) {
			return rt, dot11Err(4+4*words, "radiotap presence words run past its length %d", rt.Len)
		}
		w = binary.LittleEndian.Uint32(hdr[4+4*words:])
	}
	off := 4 + 4*words
	// Each word continues the current namespace (bit 31 alone), or starts the radiotap namespace
	// afresh (bit 29) or a vendor namespace (bit 30), whose data is skipped by its own length.
	const (
		nsRadiotap = iota
		nsRadiotapExt
		nsVendor
	)
	ns := nsRadiotap
	for i := 0; i < words; i++ {
		w := binary.LittleEndian.Uint32(hdr[4+4*i:])
		switch ns {
		case nsRadiotap:
			var ok bool
			if off, ok = rt.walkWord(hdr, off, w, i == 0); !ok {
				return rt, nil // a field of unknown size: the rest cannot be located, the frame can
			}
		case nsRadiotapExt:
			if w&(1<<29-1) != 0 {
				return rt, nil // radiotap bits 32 and up are undefined, so their sizes are unknown
			}
		}
		switch {
		case w&(1<<31) == 0:
		case w&(1<<29) != 0:
			ns = nsRadiotap
		case w&(1<<30) != 0:
			// Vendor namespace header, aligned to 2: OUI (3), sub-namespace (1), skip length u16.
			off = (off + 1) &^ 1
			if off+6 > len(hdr) {
				return rt, nil
			}
			off += 6 + int(binary.LittleEndian.Uint16(hdr[off+4:]))
			ns = nsVendor
		case ns == nsRadiotap:
			ns = nsRadiotapExt
		}
	}
	return rt, nil
}

// walkWord reads the fields of one radiotap-namespace presence word. Only the first word's fields
// are recorded (later words repeat signal per antenna). It reports false when it met a field whose
// size it does not know.
func (rt *Radiotap) walkWord(hdr []byte, off int, w uint32, record bool) (int, bool) {
	for bit := 0; bit < 29; bit++ {
		if w&(1<<bit) == 0 {
			continue
		}
		f := radiotapField[bit]
		if f.size == 0 {
			return off, false
		}
		a := int(f.align)
		off = (off + a - 1) &^ (a - 1)
		if off+int(f.size) > len(hdr) {
			return off, false
		}
		v := hdr[off : off+int(f.size)]
		if record {
			switch bit {
			case 0:
				rt.HasTSFT, rt.TSFT = true, binary.LittleEndian.Uint64(v)
			case 1:
				rt.HasFlags, rt.Flags = true, v[0]
			case 3:
				rt.HasChannel = true
				rt.FreqMHz, rt.ChannelFlags = binary.LittleEndian.Uint16(v), binary.LittleEndian.Uint16(v[2:])
			case 5:
				rt.HasSignal, rt.SignalDBm = true, int8(v[0])
			}
		}
		off += int(f.size)
	}
	return off, true
}

// FCS states of a frame.
const (
	FCSAbsent = iota // no FCS in the captured bytes
	FCSValid         // an FCS was present and matched
	FCSBad           // an FCS was present and did not match, or radiotap flagged it bad
)

// 802.11 frame types (IEEE 802.11-2020 §9.2.4.1.3) and the management subtypes we read.
const (
	Dot11TypeMgmt    = 0
	Dot11TypeControl = 1
	Dot11TypeData    = 2

	Dot11ProbeResp = 5
	Dot11Beacon    = 8
	Dot11Action    = 13
)

// Dot11 is one walked 802.11 frame. Slices alias the packet data and are valid only as long as it.
type Dot11 struct {
	HasRadiotap bool
	Radiotap    Radiotap
	FCS         int // FCSAbsent, FCSValid or FCSBad
	Type        uint8
	Subtype     uint8
	FlagsByte   uint8 // second byte of Frame Control: 0x40 protected, 0x80 order (+HTC)
	Addr1       [6]byte
	Addr2       [6]byte
	Addr3       [6]byte
	SeqCtrl     uint16
	// BodyOffset is where Body starts within the captured frame.
	BodyOffset int
	Body       []byte // the frame body, FCS removed
}

// ErrNotDot11 is returned for link types that do not carry 802.11.
var ErrNotDot11 = errors.New("link type does not carry 802.11")

// IsDot11 reports whether frames of this link type are 802.11 frames.
func (lt LinkType) IsDot11() bool { return lt == LinkIEEE80211 || lt == LinkRadiotap }

// Decode walks data, a captured frame of link type lt (radiotap or plain 802.11). Management frames
// get their header and body; other frames only their type. An error is a *Dot11Error.
func (d *Dot11) Decode(lt LinkType, data []byte) error {
	*d = Dot11{}
	frame, base := data, 0
	switch lt {
	case LinkRadiotap:
		rt, err := ParseRadiotap(data)
		if err != nil {
			return err
		}
		d.HasRadiotap, d.Radiotap = true, rt
		frame, base = data[rt.Len:], rt.Len
	case LinkIEEE80211:
	default:
		return ErrNotDot11
	}
	frame = d.stripFCS(frame)
	if len(frame) < 2 {
		return dot11Err(base, "802.11 frame cut short: %d bytes", len(frame))
	}
	d.Type, d.Subtype = (frame[0]>>2)&3, frame[0]>>4
	d.FlagsByte = frame[1]
	if d.Type != Dot11TypeMgmt {
		return nil
	}
	// Management header: FC, duration, A1, A2, A3, sequence control (802.11-2020 §9.3.3.2).
	const mgmtHdr = 24
	if len(frame) < mgmtHdr {
		return dot11Err(base, "management header cut short: %d of %d bytes", len(frame), mgmtHdr)
	}
	copy(d.Addr1[:], frame[4:10])
	copy(d.Addr2[:], frame[10:16])
	copy(d.Addr3[:], frame[16:22])
	d.SeqCtrl = binary.LittleEndian.Uint16(frame[22:])
	h := mgmtHdr
	if d.FlagsByte&0x80 != 0 {
		h += 4 // HT Control follows when Order is set on a management frame (§9.2.4.1.10)
		if len(frame) < h {
			return dot11Err(base, "HT Control field cut short")
		}
	}
	d.BodyOffset, d.Body = base+h, frame[h:]
	return nil
}

// stripFCS decides whether the frame ends with an FCS (over-the-air.md §2.2), verifies it, and
// returns the frame without it.
func (d *Dot11) stripFCS(frame []byte) []byte {
	if d.HasRadiotap && d.Radiotap.HasFlags {
		if d.Radiotap.Flags&RadiotapFlagFCS == 0 {
			return frame
		}
		if len(frame) < 4 {
			d.FCS = FCSBad
			return frame[:0]
		}
		body := frame[:len(frame)-4]
		if d.Radiotap.Flags&RadiotapFlagBadFCS != 0 || crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(frame[len(body):]) {
			d.FCS = FCSBad
		} else {
			d.FCS = FCSValid
		}
		return body
	}
	// No Flags field (plain 802.11, or a minimal radiotap from an injecting host): the FCS is
	// present exactly when the CRC of the rest matches the last four bytes (false positive 2^-32).
	if len(frame) >= 4+10 {
		body := frame[:len(frame)-4]
		if crc32.ChecksumIEEE(body) == binary.LittleEndian.Uint32(frame[len(body):]) {
			d.FCS = FCSValid
			return body
		}
	}
	return frame
}

// Elements returns the information elements of a beacon or probe response (after the 12 fixed
// bytes of timestamp, interval and capability); ok is false for other frames or short bodies.
func (d *Dot11) Elements() (Elements, bool) {
	if d.Type != Dot11TypeMgmt || (d.Subtype != Dot11Beacon && d.Subtype != Dot11ProbeResp) || len(d.Body) < 12 {
		return Elements{}, false
	}
	return Elements{b: d.Body[12:], base: d.BodyOffset + 12}, true
}

// Elements walks information elements, each `id u8 | len u8 | value`, bounded by the buffer.
// The zero value walks nothing.
type Elements struct {
	b    []byte
	base int // offset of b[0] within the captured frame
	off  int
}

// NewElements walks the elements in b; base is the offset of b within its frame, for locators.
func NewElements(b []byte, base int) Elements { return Elements{b: b, base: base} }

// Next returns the next element: its id, its value, and the frame offset of its id byte. ok is
// false when fewer than two bytes are left or the last element's length runs past the buffer.
func (e *Elements) Next() (id uint8, value []byte, offset int, ok bool) {
	if len(e.b)-e.off < 2 {
		return 0, nil, 0, false
	}
	n := int(e.b[e.off+1])
	if e.off+2+n > len(e.b) {
		return 0, nil, 0, false
	}
	id, value, offset = e.b[e.off], e.b[e.off+2:e.off+2+n], e.base+e.off
	e.off += 2 + n
	return id, value, offset, true
}

// Rest returns the bytes the walk could not use as whole elements: 1–3 stray bytes after the
// last element, or an element whose length runs past the frame.
func (e *Elements) Rest() []byte { return e.b[e.off:] }

// MAC formats a hardware address as aa:bb:cc:dd:ee:ff.
func MAC(a [6]byte) string {
	const hexd = "0123456789abcdef"
	var s [17]byte
	for i, c := range a {
		if i > 0 {
			s[3*i-1] = ':'
		}
		s[3*i], s[3*i+1] = hexd[c>>4], hexd[c&15]
	}
	return string(s[:])
}

package djilog

import "encoding/binary"

// Prefix sizes (formats §2; lvauvillier/dji-log-parser@88fcfc96:src/layout/prefix.rs).
const (
	oldPrefixLen = 12  // format versions 1–5
	newPrefixLen = 100 // format versions 6 and later
)

// Version bounds. DJI's engine knows versions up to 14 ("13.2") and starts XOR scrambling at 7
// (formats §1, flight_record_version_decoder.h `FREncryptVersion 7`).
const (
	minVersion      = 1
	maxVersion      = 14
	firstScrambled  = 7
	firstAuxVersion = 13 // aux blocks, u16 record lengths, AES
)

// prefix is the fixed head of a flight record.
type prefix struct {
	// word0 is the u64 at offset 0: the details offset for v≤11, the records start for v13+.
	word0      uint64
	detailsLen int  // u16 at 8: 400 or 436
	version    int  // u8 at 10
	byte11     byte // u8 at 11: unknown; 0xFF seen in a file with a corrupt details block
	magicVer   byte // u64 at 12, truncated to 8 bits as DJI does (v≥6 only)
	magicWide  bool // the u64 at 12 does not fit in 8 bits
	size       int  // 12 or 100
}

// parsePrefix reads the prefix from the first bytes of a file. ok is false when the bytes are too
// short or the version byte is outside the known range.
func parsePrefix(b []byte) (p prefix, ok bool) {
	if len(b) < oldPrefixLen {
		return p, false
	}
	p.word0 = binary.LittleEndian.Uint64(b)
	p.detailsLen = int(binary.LittleEndian.Uint16(b[8:]))
	p.version = int(b[10])
	p.byte11 = b[11]
	if p.version < minVersion || p.version > maxVersion {
		return p, false
	}
	p.size = oldPrefixLen
	if p.version >= 6 {
		if len(b) < newPrefixLen {
			return p, false
		}
		p.size = newPrefixLen
		mv := binary.LittleEndian.Uint64(b[12:])
		p.magicVer = byte(mv)
		p.magicWide = mv > 0xFF
	}
	return p, true
}

// lenWidth is the width of the record length field: u8 up to v12, u16 from v13 (formats §4).
func (p prefix) lenWidth() int {
	if p.version >= firstAuxVersion {
		return 2
	}
	return 1
}

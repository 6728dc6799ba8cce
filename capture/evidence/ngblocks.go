package evidence

import (
	"encoding/binary"
	"time"
)

// Encoding of the pcapng blocks the evidence writer emits. Block layouts and option codes follow
// the pcapng specification, draft-ietf-opsawg-pcapng-03
// (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html): §4.1 Section Header,
// §4.2 Interface Description, §4.3 Enhanced Packet, §4.6 Interface Statistics, §4.7 Decryption
// Secrets; options §3.5. Every block is written little-endian; the byte-order magic in the
// section header tells readers so. The block types repeat the capture reader's (unexported
// there): both come from the same specification.

const (
	ngSHBType   = 0x0a0d0d0a
	ngByteOrder = 0x1a2b3c4d
	ngIDB       = 0x00000001
	ngISB       = 0x00000005
	ngEPB       = 0x00000006
	ngDSB       = 0x0000000a

	ngOptEndOfOpt   = 0
	ngOptSHBOS      = 3
	ngOptSHBUserApp = 4
	ngOptIfName     = 2
	ngOptIfDesc     = 3
	ngOptIfTsresol  = 9
	ngOptISBStart   = 2
	ngOptISBEnd     = 3
	ngOptISBIfRecv  = 4
	ngOptISBIfDrop  = 5
	ngOptEPBFlags   = 2
)

var ngLE = binary.LittleEndian

// pad4 is the number of zero bytes that align n to 32 bits.
func pad4(n int) int { return (4 - n%4) % 4 }

// beginBlock appends a block header with a placeholder length and returns the block's start.
func beginBlock(b []byte, typ uint32) ([]byte, int) {
	start := len(b)
	b = ngLE.AppendUint32(b, typ)
	b = ngLE.AppendUint32(b, 0)
	return b, start
}

// endBlock fills in both length fields of the block that starts at start.
func endBlock(b []byte, start int) []byte {
	total := uint32(len(b) - start + 4)
	ngLE.PutUint32(b[start+4:], total)
	return ngLE.AppendUint32(b, total)
}

func appendOption(b []byte, code uint16, v []byte) []byte {
	b = ngLE.AppendUint16(b, code)
	b = ngLE.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, make([]byte, pad4(len(v)))...)
}

func appendOptionString(b []byte, code uint16, s string) []byte {
	// An option length is 16 bits; names and descriptions are far shorter, but never overflow.
	if len(s) > 0xfff0 {
		s = s[:0xfff0]
	}
	return appendOption(b, code, []byte(s))
}

func appendEndOfOpt(b []byte) []byte { return ngLE.AppendUint32(b, ngOptEndOfOpt) }

// appendTS splits a time into the 64-bit nanosecond count pcapng stores as two 32-bit halves
// (if_tsresol 9 is written in every interface block, so units are nanoseconds).
func appendTS(b []byte, t time.Time) []byte {
	ns := uint64(t.UnixNano())
	b = ngLE.AppendUint32(b, uint32(ns>>32))
	return ngLE.AppendUint32(b, uint32(ns))
}

func appendSHB(b []byte, app string) []byte {
	b, s := beginBlock(b, ngSHBType)
	b = ngLE.AppendUint32(b, ngByteOrder)
	b = ngLE.AppendUint16(b, 1) // major
	b = ngLE.AppendUint16(b, 0) // minor
	// Section length unknown (-1): the writer streams and never seeks back.
	b = ngLE.AppendUint64(b, ^uint64(0))
	b = appendOptionString(b, ngOptSHBOS, "linux")
	b = appendOptionString(b, ngOptSHBUserApp, app)
	b = appendEndOfOpt(b)
	return endBlock(b, s)
}

func appendIDB(b []byte, ifc Interface) []byte {
	b, s := beginBlock(b, ngIDB)
	b = ngLE.AppendUint16(b, uint16(ifc.LinkType))
	b = ngLE.AppendUint16(b, 0)
	b = ngLE.AppendUint32(b, uint32(ifc.SnapLen))
	if ifc.Name != "" {
		b = appendOptionString(b, ngOptIfName, ifc.Name)
	}
	if ifc.Description != "" {
		b = appendOptionString(b, ngOptIfDesc, ifc.Description)
	}
	b = appendOption(b, ngOptIfTsresol, []byte{9})
	b = appendEndOfOpt(b)
	return endBlock(b, s)
}

// appendEPB writes one packet; flags other than 0 go into an epb_flags option, 0 writes none.
func appendEPB(b []byte, iface int, ts time.Time, origLen int, flags PacketFlags, data []byte) []byte {
	b, s := beginBlock(b, ngEPB)
	b = ngLE.AppendUint32(b, uint32(iface))
	b = appendTS(b, ts)
	b = ngLE.AppendUint32(b, uint32(len(data)))
	b = ngLE.AppendUint32(b, uint32(origLen))
	b = append(b, data...)
	b = append(b, make([]byte, pad4(len(data)))...)
	if flags != 0 {
		// appendOption by hand: no slice for the value on the per-packet path.
		b = ngLE.AppendUint16(b, ngOptEPBFlags)
		b = ngLE.AppendUint16(b, 4)
		b = ngLE.AppendUint32(b, uint32(flags))
		b = appendEndOfOpt(b)
	}
	return endBlock(b, s)
}

func appendDSB(b []byte, typ uint32, data []byte) []byte {
	b, s := beginBlock(b, ngDSB)
	b = ngLE.AppendUint32(b, typ)
	b = ngLE.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	b = append(b, make([]byte, pad4(len(data)))...)
	return endBlock(b, s)
}

// appendISB records the kernel's counters for one interface: packets received and dropped since
// the capture started (cumulative, as the specification asks).
func appendISB(b []byte, iface int, now, start time.Time, st IfaceStats) []byte {
	b, s := beginBlock(b, ngISB)
	b = ngLE.AppendUint32(b, uint32(iface))
	b = appendTS(b, now)
	b = appendOption(b, ngOptISBStart, appendTS(nil, start))
	b = appendOption(b, ngOptISBEnd, appendTS(nil, now))
	b = appendOption(b, ngOptISBIfRecv, ngLE.AppendUint64(nil, st.Received))
	b = appendOption(b, ngOptISBIfDrop, ngLE.AppendUint64(nil, st.Dropped))
	b = appendEndOfOpt(b)
	return endBlock(b, s)
}

// isbLen is the size of one block written by appendISB.
var isbLen = int64(len(appendISB(nil, 0, time.Time{}, time.Time{}, IfaceStats{})))

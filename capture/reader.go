package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Magic numbers of the two file formats.
// pcap: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html §4
// pcapng: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html §4.1
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	ngSHBType      = 0x0a0d0d0a
	ngByteOrder    = 0x1a2b3c4d
)

// maxRecord bounds one captured frame. 256 KiB is the largest snap length tools use by default;
// a larger declared snap length raises it up to maxRecordHard.
const (
	maxRecord     = 262144
	maxRecordHard = 16 << 20
)

// Sniff reports whether head starts like a pcap or pcapng file.
func Sniff(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == pcapMagicMicro || le == pcapMagicNano || be == pcapMagicMicro || be == pcapMagicNano:
		return len(head) >= 24
	case le == ngSHBType:
		return len(head) >= 12 && (binary.LittleEndian.Uint32(head[8:]) == ngByteOrder || binary.BigEndian.Uint32(head[8:]) == ngByteOrder)
	}
	return false
}

// Secret is a pcapng Decryption Secrets Block: e.g. an NSS key log (type 0x544c534b "TLSK").
type Secret struct {
	Type uint32
	Data []byte
}

// SecretsTLSKeyLog is the DSB type of an NSS key log.
const SecretsTLSKeyLog = 0x544c534b

// Reader reads the packets of a pcap or pcapng file as a stream.
type Reader struct {
	name  string
	br    *input
	off   int64 // bytes consumed from br
	frame int
	ng    bool
	pkt   Packet
	buf   []byte
	err   error
	pcap  pcapState
	ngs   ngState
	// hdr holds record and block headers; a field rather than a local so that it is not
	// allocated for every packet (io.ReadFull takes a slice of it through an interface).
	hdr [16]byte
	// OnSecrets, when set, is called with each Decryption Secrets Block as it is read.
	OnSecrets func(Secret)
}

type pcapState struct {
	order    binary.ByteOrder
	nano     bool
	linkType LinkType
	limit    int
}

type ngIface struct {
	linkType LinkType
	limit    int
	// ts units: a timestamp value is multiplied by mul/div to get nanoseconds.
	mul, div int64
	offsetS  int64
}

type ngState struct {
	order  binary.ByteOrder
	ifaces []ngIface
}

// NewReader reads the file header from r and returns a reader of its packets. name is used in
// errors. r is read sequentially and never seeked, so stdin and pipes work. The read buffer is
// 1 MiB, or the size of r's buffer when r is a *bufio.Reader.
func NewReader(r io.Reader, name string) (*Reader, error) {
	size := 1 << 20
	if br, ok := r.(*bufio.Reader); ok {
		size = br.Size()
	}
	return NewReaderTee(r, name, size, nil)
}

// NewReaderTee is NewReader with a read buffer of size bytes (records longer than that are copied
// out of it) whose bytes are lent to tee as they are read, when tee is not nil.
func NewReaderTee(r io.Reader, name string, size int, tee Tee) (*Reader, error) {
	rd := &Reader{name: name, br: newInput(r, size, tee)}
	head, err := rd.br.Peek(4)
	if err != nil {
		return nil, rd.fail(0, "file too short for a capture header", err)
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == pcapMagicMicro || le == pcapMagicNano:
		err = rd.readPcapHeader(binary.LittleEndian)
	case be == pcapMagicMicro || be == pcapMagicNano:
		err = rd.readPcapHeader(binary.BigEndian)
	case le == ngSHBType:
		rd.ng = true
		// The section header is read as the first block by Next.
	default:
		return nil, rd.fail(0, fmt.Sprintf("not a pcap or pcapng file (magic %08x)", be), nil)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// Format returns "pcap" or "pcapng".
func (r *Reader) Format() string {
	if r.ng {
		return "pcapng"
	}
	return "pcap"
}

// Offset returns how many bytes of the file have been consumed.
func (r *Reader) Offset() int64 { return r.off }

func (r *Reader) fail(off int64, reason string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{File: r.name, Offset: off, Reason: reason, Err: err}
}

// read fills b completely or returns an error naming where the file was cut. what names the
// part read (a string or a fmt.Stringer); it is formatted only when the file is cut, not for every
// block read.
func (r *Reader) read(b []byte, what any) error {
	start := r.off
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	if err != nil {
		return r.fail(start, fmt.Sprintf("truncated %v: %d of %d bytes", what, n, len(b)), err)
	}
	return nil
}

// blockWhat names a pcapng block by its type in a read error.
type blockWhat uint32

func (t blockWhat) String() string { return fmt.Sprintf("pcapng block (type 0x%x)", uint32(t)) }

func (r *Reader) readPcapHeader(order binary.ByteOrder) error {
	var h [24]byte
	if err := r.read(h[:], "pcap file header"); err != nil {
		return err
	}
	r.pcap.order = order
	r.pcap.nano = order.Uint32(h[0:]) == pcapMagicNano
	snap := order.Uint32(h[16:])
	// The link type is the low 16 bits; the top bits may hold an FCS length (pcap draft §4).
	r.pcap.linkType = LinkType(order.Uint32(h[20:]) & 0xffff)
	r.pcap.limit = recordLimit(snap)
	return nil
}

func recordLimit(snap uint32) int {
	if snap > maxRecord {
		return int(min(snap, maxRecordHard))
	}
	return maxRecord
}

// Next returns the next packet, io.EOF at the clean end of the file, or a *FormatError. After an
// error, Next keeps returning it: a capture has no frame markers to resynchronise on.
func (r *Reader) Next() (*Packet, error) {
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if r.ng {
		err = r.nextNg()
	} else {
		err = r.nextPcap()
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	r.frame++
	r.pkt.Frame = r.frame
	return &r.pkt, nil
}

// DataBuffer returns the read buffer that holds the bytes of the packet Next returned last, nil
// when they are not in one (a record longer than the buffer) or the Reader has no Tee (its one
// buffer slides). A hold on it (Buffer.Hold) keeps those bytes, and the slices the decoders take
// of them, valid after the next call to Next.
func (r *Reader) DataBuffer() *Buffer {
	c := r.br.current()
	if c == nil || len(r.pkt.Data) == 0 {
		return nil
	}
	if _, ok := SliceOffset(c.b, r.pkt.Data); !ok {
		return nil
	}
	return c
}

// SliceOffset returns the offset of s in b when s is a slice of b (as a packet's Data, and the
// slices decoders take of it, are of its read buffer), and ok false when it is not.
func SliceOffset(b, s []byte) (off int, ok bool) {
	off = cap(b) - cap(s)
	if off < 0 || off > len(b) || len(s) > len(b)-off {
		return 0, false
	}
	if len(s) == 0 {
		return off, true
	}
	return off, &b[off] == &s[0]
}

func (r *Reader) atEOF() bool {
	_, err := r.br.Peek(1)
	return err == io.EOF
}

// take returns the next n bytes of a packet record, or an error naming where the file was cut.
// They are read in place from the read buffer when they fit in it, not copied out: a packet is
// only valid until the next call to Next anyway, and this copy was one of the five each captured
// byte went through. Records longer than the buffer are copied into r.buf.
func (r *Reader) take(n int, what any) ([]byte, error) {
	if n > r.br.Size() {
		b := r.grow(n)
		return b, r.read(b, what)
	}
	start := r.off
	b, err := r.br.Peek(n)
	k, _ := r.br.Discard(len(b))
	r.off += int64(k)
	if err != nil {
		if err == bufio.ErrBufferFull || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // as io.ReadFull reports a cut record
		}
		return nil, r.fail(start, fmt.Sprintf("truncated %v: %d of %d bytes", what, len(b), n), err)
	}
	return b, nil
}

func (r *Reader) grow(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n, max(n, 2048))
	}
	return r.buf[:n]
}

// nextPcap reads one pcap record. A record that lies whole in the read buffer is taken from it
// in place with no call that can fill the buffer; the others (one per buffer refill, a cut file,
// a record over the limit) go the general way of nextPcapRead, whose checks and errors apply.
func (r *Reader) nextPcap() error {
	if avail := r.br.Buffered(); avail >= 16 {
		w, _ := r.br.Peek(avail) // buffered bytes only: no read, no error
		o := r.pcap.order
		incl := o.Uint32(w[8:])
		if n := 16 + int(incl); incl <= uint32(r.pcap.limit) && n <= avail {
			start := r.off
			r.br.Discard(n)
			r.off += int64(n)
			r.pcapRecord(start, w[:16], w[16:n])
			return nil
		}
	}
	return r.nextPcapRead()
}

// pcapRecord fills r.pkt from a record header h and its captured bytes.
func (r *Reader) pcapRecord(start int64, h, data []byte) {
	o := r.pcap.order
	sec, frac := int64(o.Uint32(h[0:])), int64(o.Uint32(h[4:]))
	if !r.pcap.nano {
		frac *= 1000
	}
	// Field by field rather than a whole Packet: Interface stays 0 and the copy of a struct with
	// pointers (with write barriers while the collector runs) is saved for every frame.
	pk := &r.pkt
	pk.Offset, pk.Time, pk.LinkType, pk.OrigLen, pk.Data = start, time.Unix(sec, frac).UTC(), r.pcap.linkType, int(o.Uint32(h[12:])), data
}

func (r *Reader) nextPcapRead() error {
	if r.atEOF() {
		return io.EOF
	}
	start := r.off
	h := r.hdr[:16]
	if err := r.read(h, "pcap record header"); err != nil {
		return err
	}
	incl := r.pcap.order.Uint32(h[8:])
	if incl > uint32(r.pcap.limit) {
		return r.fail(start, fmt.Sprintf("record length %d exceeds the limit %d", incl, r.pcap.limit), nil)
	}
	data, err := r.take(int(incl), "pcap record")
	if err != nil {
		return err
	}
	r.pcapRecord(start, h, data)
	return nil
}

// pcapng block types (pcapng draft §4 and §10.1).
const (
	ngIDB = 0x00000001
	ngOPB = 0x00000002 // obsolete packet block
	ngSPB = 0x00000003
	ngEPB = 0x00000006
	ngDSB = 0x0000000a
)

// maxBlock bounds a pcapng block other than packet blocks, whose limit comes from the interface.
const maxBlock = 16 << 20

func (r *Reader) nextNg() error {
	for {
		if ok, err := r.nextNgBuffered(); ok {
			return err
		}
		if r.atEOF() {
			return io.EOF
		}
		start := r.off
		h := r.hdr[:8]
		if err := r.read(h, "pcapng block header"); err != nil {
			return err
		}
		typ := binary.LittleEndian.Uint32(h[0:])
		if typ == ngSHBType {
			if err := r.readSHB(start, h); err != nil {
				return err
			}
			continue
		}
		if r.ngs.order == nil {
			return r.fail(start, "pcapng block before any section header", nil)
		}
		o := r.ngs.order
		typ = o.Uint32(h[0:])
		total := o.Uint32(h[4:])
		if total < 12 || total%4 != 0 {
			return r.fail(start, fmt.Sprintf("block length %d is not a multiple of 4 of at least 12", total), nil)
		}
		if total > maxBlock+maxRecordHard {
			return r.fail(start, fmt.Sprintf("block length %d exceeds the limit", total), nil)
		}
		var body []byte
		var err error
		switch typ {
		case ngEPB, ngSPB, ngOPB:
			body, err = r.take(int(total)-8, blockWhat(typ)) // a packet: read in place
		default:
			// Other blocks (interfaces, secrets, names) are parsed into values that may keep
			// slices of them: they get a buffer of their own.
			body = r.grow(int(total) - 8)
			err = r.read(body, blockWhat(typ))
		}
		if err != nil {
			return err
		}
		if o.Uint32(body[len(body)-4:]) != total {
			return r.fail(start, "block's trailing length differs from its leading length", nil)
		}
		body = body[:len(body)-4]
		ok, err := r.ngBlock(start, typ, body)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
}

// nextNgBuffered handles an Enhanced Packet Block that lies whole in the read buffer in place,
// with no call that can fill the buffer; it reports false, having consumed nothing, for any other
// block (and a cut or odd one), which nextNg then reads the general way with its checks and errors.
func (r *Reader) nextNgBuffered() (bool, error) {
	o := r.ngs.order
	avail := r.br.Buffered()
	if o == nil || avail < 12 {
		return false, nil
	}
	w, _ := r.br.Peek(avail) // buffered bytes only: no read, no error
	typ, total := o.Uint32(w[0:]), o.Uint32(w[4:])
	if typ != ngEPB || total < 12 || total%4 != 0 || total > maxBlock+maxRecordHard || uint64(total) > uint64(avail) {
		return false, nil
	}
	start := r.off
	n := int(total)
	r.br.Discard(n)
	r.off += int64(n)
	body := w[8:n]
	if o.Uint32(body[len(body)-4:]) != total {
		return true, r.fail(start, "block's trailing length differs from its leading length", nil)
	}
	_, err := r.ngBlock(start, typ, body[:len(body)-4])
	return true, err
}

func (r *Reader) readSHB(start int64, h []byte) error {
	// h is r.hdr[:8]; the byte-order magic goes just behind it, leaving h intact.
	bom := r.hdr[8:12]
	if err := r.read(bom, "pcapng section header"); err != nil {
		return err
	}
	switch {
	case binary.LittleEndian.Uint32(bom) == ngByteOrder:
		r.ngs.order = binary.LittleEndian
	case binary.BigEndian.Uint32(bom) == ngByteOrder:
		r.ngs.order = binary.BigEndian
	default:
		return r.fail(start, "pcapng section header with an unknown byte-order magic", nil)
	}
	total := r.ngs.order.Uint32(h[4:])
	if total < 28 || total%4 != 0 || total > maxBlock {
		return r.fail(start, fmt.Sprintf("section header length %d is invalid", total), nil)
	}
	rest := r.grow(int(total) - 12)
	if err := r.read(rest, "pcapng section header"); err != nil {
		return err
	}
	if r.ngs.order.Uint32(rest[len(rest)-4:]) != total {
		return r.fail(start, "section header's trailing length differs from its leading length", nil)
	}
	// A new section starts a new interface numbering.
	r.ngs.ifaces = r.ngs.ifaces[:0]
	return nil
}

// ngBlock handles one block body; it reports true when the block produced a packet.
func (r *Reader) ngBlock(start int64, typ uint32, b []byte) (bool, error) {
	o := r.ngs.order
	switch typ {
	case ngIDB:
		if len(b) < 8 {
			return false, r.fail(start, "interface description block too short", nil)
		}
		ifc := ngIface{linkType: LinkType(o.Uint16(b[0:])), limit: recordLimit(o.Uint32(b[4:])), mul: 1000, div: 1}
		parseIDBOptions(o, b[8:], &ifc)
		r.ngs.ifaces = append(r.ngs.ifaces, ifc)
		return false, nil
	case ngEPB, ngOPB:
		if len(b) < 20 {
			return false, r.fail(start, "packet block too short", nil)
		}
		var id int
		if typ == ngEPB {
			id = int(o.Uint32(b[0:]))
		} else {
			id = int(o.Uint16(b[0:]))
		}
		ts := uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:]))
		capLen, orig := o.Uint32(b[12:]), o.Uint32(b[16:])
		return true, r.ngPacket(start, id, ts, capLen, orig, b[20:])
	case ngSPB:
		if len(b) < 4 {
			return false, r.fail(start, "simple packet block too short", nil)
		}
		orig := o.Uint32(b[0:])
		capLen := min(orig, uint32(len(b)-4))
		return true, r.ngPacket(start, 0, 0, capLen, orig, b[4:])
	case ngDSB:
		if len(b) < 8 {
			return false, r.fail(start, "decryption secrets block too short", nil)
		}
		n := o.Uint32(b[4:])
		if uint64(n) > uint64(len(b)-8) {
			return false, r.fail(start, fmt.Sprintf("decryption secrets length %d exceeds its block", n), nil)
		}
		if r.OnSecrets != nil {
			r.OnSecrets(Secret{Type: o.Uint32(b[0:]), Data: append([]byte(nil), b[8:8+n]...)})
		}
		return false, nil
	}
	return false, nil // name resolution, statistics, custom blocks: not needed
}

func (r *Reader) ngPacket(start int64, id int, ts uint64, capLen, orig uint32, data []byte) error {
	if id < 0 || id >= len(r.ngs.ifaces) {
		return r.fail(start, fmt.Sprintf("packet refers to interface %d, but the section describes %d", id, len(r.ngs.ifaces)), nil)
	}
	ifc := r.ngs.ifaces[id]
	if capLen > uint32(len(data)) || int(capLen) > ifc.limit {
		return r.fail(start, fmt.Sprintf("captured length %d exceeds its block or the interface limit", capLen), nil)
	}
	r.pkt = Packet{Offset: start, Time: ifc.time(ts), LinkType: ifc.linkType, Interface: id, OrigLen: int(orig), Data: data[:capLen]}
	return nil
}

func (ifc ngIface) time(ts uint64) time.Time {
	if ifc.div == 1 { // the usual resolutions, 10^-9 to 10^-1 s: no division needed
		return time.Unix(ifc.offsetS, int64(ts)*ifc.mul).UTC()
	}
	// Split to keep the product in range for any resolution.
	whole := int64(ts / uint64(ifc.div))
	rem := int64(ts % uint64(ifc.div))
	ns := whole*ifc.mul + rem*ifc.mul/ifc.div
	return time.Unix(ifc.offsetS, ns).UTC()
}

// parseIDBOptions reads if_tsresol (9) and if_tsoffset (14); other options are skipped by their
// own lengths.
func parseIDBOptions(o binary.ByteOrder, b []byte, ifc *ngIface) {
	for len(b) >= 4 {
		code, n := o.Uint16(b[0:]), int(o.Uint16(b[2:]))
		b = b[4:]
		if code == 0 || n > len(b) {
			return
		}
		v := b[:n]
		switch {
		case code == 9 && n >= 1:
			setResolution(ifc, v[0])
		case code == 14 && n >= 8:
			ifc.offsetS = int64(o.Uint64(v))
		}
		pad := (n + 3) &^ 3
		if pad > len(b) {
			return
		}
		b = b[pad:]
	}
}

// setResolution turns if_tsresol into a ratio to nanoseconds: the top bit selects a power of two,
// otherwise a power of ten (pcapng draft §4.2).
func setResolution(ifc *ngIface, v byte) {
	exp := int(v & 0x7f)
	if v&0x80 != 0 {
		// Beyond 2^-30 s the remainder product could overflow; no clock is that fine.
		exp = min(exp, 30)
		ifc.mul, ifc.div = 1_000_000_000, int64(1)<<exp
		return
	}
	switch {
	case exp <= 9:
		ifc.mul, ifc.div = int64(math.Pow10(9-exp)), 1
	case exp <= 18:
		ifc.mul, ifc.div = 1, int64(math.Pow10(exp-9))
	default:
		ifc.mul, ifc.div = 1, 1_000_000_000_000_000_000
	}
}

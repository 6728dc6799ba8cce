package gpx

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strconv"

	"droneaudit/decoders"
)

// maxEntry bounds the decompressed bytes read from one KML entry; zip headers may lie about
// sizes (zip bombs), so the bound is enforced on the bytes actually inflated. A variable so
// that tests can exercise it without inflating 256 MiB.
var maxEntry int64 = 256 << 20

const (
	// maxEntries bounds the KML entries decoded from one KMZ.
	maxEntries = 64
	// maxRatio bounds how many bytes an entry may inflate to per compressed byte read. KML text
	// deflates 5 to 20 times; a zip bomb, hundreds of times. Counted as the bytes come out of the
	// inflater, so a bomb costs about maxRatio times its compressed bytes read, not its size.
	maxRatio = 100
	// ratioSlack is inflated before the ratio applies, so that a short entry of repetitive
	// markup is never stopped.
	ratioSlack = 1 << 20
)

var (
	errEntryTooLarge   = errors.New("decompressed entry exceeds the decoder's bound (possible zip bomb)")
	errExpansionRatio  = fmt.Errorf("entry expands more than %d times its compressed size (zip bomb?): stopped", maxRatio)
	errExpansionBudget = errors.New("the run's budget of decompressed bytes is spent: stopped")
)

// limitReader stops with errEntryTooLarge, not a silent EOF, so that the cut is reported.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errEntryTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// countReader counts the compressed bytes an inflater reads. It is an io.ByteReader, so that
// flate reads exactly the bytes of its stream (it wraps other readers in a bufio.Reader that
// reads ahead): the end of a stream then tells where a streamed entry ends.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// inflated is the decompressed stream of one entry, bounded as it is produced: by maxEntry,
// by maxRatio against the compressed bytes read so far, and by the run's budget. At its end it
// checks the size and CRC-32 the zip declared, as archive/zip does.
type inflated struct {
	r      io.Reader
	comp   *countReader // nil for a stored entry, which does not expand
	budget *decoders.ExpansionBudget
	n      int64
	left   int64
	crc    hash.Hash32
	want   uint32
	size   int64 // declared uncompressed size, -1 when unknown
	// checked: want and size are known before reading (no data descriptor).
	checked bool
	// ended: the compressed stream ended (io.EOF from the inflater).
	ended bool
}

func (e *inflated) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, errEntryTooLarge
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.n += int64(n)
	e.left -= int64(n)
	e.crc.Write(p[:n])
	switch {
	case e.comp != nil && e.n > ratioSlack && e.n > maxRatio*e.comp.n:
		return n, errExpansionRatio
	case n > 0 && !e.budget.Take(int64(n)):
		return n, errExpansionBudget
	case e.checked && e.size >= 0 && e.n > e.size:
		return n, zip.ErrFormat
	}
	if err == io.EOF {
		e.ended = true
		if e.checked && (e.n != e.size || e.crc.Sum32() != e.want) {
			return n, zip.ErrChecksum
		}
	}
	return n, err
}

// entry is one zip member as a local or central header describes it.
type entry struct {
	name     string
	method   uint16
	flags    uint16
	crc      uint32
	comp     int64 // compressed size, -1 when unknown (data descriptor)
	size     int64 // uncompressed size, -1 when unknown
	header   int64 // offset of its local header
	data     int64 // offset of its data
	verified bool  // crc and size are known before reading
}

// decodeKMZ decodes every .kml (and DJI .wpml) entry of a KMZ. The central directory at the end of
// the archive names the entries; when it is missing (a cut file) or unreadable, the entries are
// read from their local headers in file order instead, so the complete ones still count.
func decodeKMZ(ctx context.Context, in decoders.Input, sink decoders.Sink, ex *exposure, budget *decoders.ExpansionBudget) error {
	ex.format = "KMZ"
	zr, err := zip.NewReader(in.R, in.Size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return streamKMZ(ctx, in, sink, ex, budget, err)
	}
	n := 0
	for _, f := range zr.File {
		if !isKMLName(f.Name) {
			continue
		}
		n++
		if n > maxEntries {
			tooMany(in, sink, f.Name)
			break
		}
		off, _ := f.DataOffset()
		e := entry{name: f.Name, method: f.Method, flags: f.Flags, crc: f.CRC32, comp: int64(f.CompressedSize64),
			size: int64(f.UncompressedSize64), header: off, data: off, verified: true}
		if e.size > maxEntry {
			declaredTooLarge(in, sink, e)
			continue
		}
		raw, err := f.OpenRaw()
		if err != nil {
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: f.Name, Offset: off,
				Message: fmt.Sprintf("%s: entry %s at byte %d cannot be opened: %v", in.Path, f.Name, off, err)})
			continue
		}
		if _, err := decodeEntry(ctx, in, sink, ex, budget, e, raw, false); err != nil {
			return err
		}
	}
	if n == 0 {
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeNoKML, Locator: "zip directory", Offset: -1,
			Message: fmt.Sprintf("%s: zip holds no .kml entry", in.Path)})
	}
	return nil
}

func tooMany(in decoders.Input, sink decoders.Sink, name string) {
	sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooManyEntries, Locator: name, Offset: -1,
		Message: fmt.Sprintf("%s: more than %d KML entries; the rest were not decoded", in.Path, maxEntries)})
}

func declaredTooLarge(in decoders.Input, sink decoders.Sink, e entry) {
	sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooLarge, Locator: e.name, Offset: e.header,
		Message: fmt.Sprintf("%s: entry %s at byte %d declares %d bytes decompressed, over the %d-byte bound (zip bomb?); skipped", in.Path, e.name, e.header, e.size, maxEntry)})
}

// opened is what reading an entry found out about its bytes.
type opened struct {
	used   int64  // compressed bytes the inflater read
	ended  bool   // the compressed stream ended within the bytes given
	crc    uint32 // CRC-32 of the inflated bytes, valid when ended
	noted  bool   // the parser reported an error note for the entry
	failed bool   // the entry could not be read at all (method); a note says so
}

// openEntry returns the bounded decompressed stream of an entry's raw bytes.
func openEntry(e entry, raw io.Reader, budget *decoders.ExpansionBudget) (*inflated, *countReader, io.Closer, bool) {
	cr := &countReader{r: bufio.NewReaderSize(raw, 4096)}
	body := &inflated{budget: budget, left: maxEntry, crc: crc32.NewIEEE(), want: e.crc, size: e.size, checked: e.verified}
	switch e.method {
	case zip.Store:
		body.r = cr
		return body, cr, io.NopCloser(nil), true
	case zip.Deflate:
		fr := flate.NewReader(cr)
		body.r, body.comp = fr, cr
		return body, cr, fr, true
	}
	return nil, nil, nil, false
}

// decodeEntry parses one KML entry from its raw (compressed) bytes. With drain, an entry the
// parser stopped reading early (bad XML) is inflated to its end, bounded as ever, so that the
// streamed reader learns where the next entry starts; a cut or bounded entry stays unended.
func decodeEntry(ctx context.Context, in decoders.Input, sink decoders.Sink, ex *exposure, budget *decoders.ExpansionBudget, e entry, raw io.Reader, drain bool) (opened, error) {
	body, cr, closer, ok := openEntry(e, raw, budget)
	if !ok {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: e.name, Offset: e.header,
			Message: fmt.Sprintf("%s: entry %s at byte %d uses compression method %d, which the decoder does not read", in.Path, e.name, e.header, e.method)})
		return opened{failed: true}, nil
	}
	defer closer.Close()
	p := newParser(in, sink, e.name, -1, ex)
	p.entryOff = e.header
	err := p.run(ctx, body)
	if err == nil && drain && !body.ended {
		io.Copy(io.Discard, body)
	}
	return opened{used: cr.n, ended: body.ended, crc: body.crc.Sum32(), noted: p.failed}, err
}

// skipEntry inflates a member that is not decoded, to find where its data ends.
func skipEntry(e entry, raw io.Reader, budget *decoders.ExpansionBudget) opened {
	body, cr, closer, ok := openEntry(e, raw, budget)
	if !ok {
		return opened{failed: true}
	}
	defer closer.Close()
	io.Copy(io.Discard, body)
	return opened{used: cr.n, ended: body.ended, crc: body.crc.Sum32()}
}

// Local file header (APPNOTE.TXT 4.3.7): signature, version, flags, method, time, date, crc-32,
// compressed size, uncompressed size, name length, extra length; then name and extra field.
const (
	localHeaderLen = 30
	sigLocal       = 0x04034b50
	sigCentral     = 0x02014b50
	sigDescriptor  = 0x08074b50
	flagEncrypted  = 0x1
	flagDescriptor = 0x8
)

// streamKMZ reads the entries of a KMZ from their local headers, in file order, until the central
// directory or the end of the file. why is the error that made the central directory unusable.
// A KMZ without its end-of-directory record has been cut: the note names where the missing part
// starts (the entry the file ends in, or the end of the last complete entry). One with the record
// but an unreadable directory is damaged instead (bad-zip).
func streamKMZ(ctx context.Context, in decoders.Input, sink decoders.Sink, ex *exposure, budget *decoders.ExpansionBudget, why error) error {
	var pos int64
	n, complete := 0, 0
	cutFile := !hasEndRecord(in)
	stop := func(at int64, what string) {
		code, sev, how := decoders.CodeTruncated, decoders.Error, "truncated KMZ: no central directory"
		if !cutFile {
			code, how = decoders.CodeBadZip, "KMZ with an unreadable central directory"
		}
		sink.Note(decoders.Note{Severity: sev, Code: code, Locator: "zip entry @ byte " + strconv.FormatInt(at, 10), Offset: at,
			Message: fmt.Sprintf("%s: %s (%v): the file (%d bytes) ends %s, which starts at byte %d; the %d complete entries before it were read from their local headers",
				in.Path, how, why, in.Size, what, at, complete)})
	}
	le := binary.LittleEndian
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var h [localHeaderLen]byte
		got, _ := in.R.ReadAt(h[:], pos)
		switch {
		case got == 0 && pos == in.Size:
			stop(pos, "after a complete entry, where the next entry or the central directory")
			return nil
		case got >= 4 && le.Uint32(h[:]) == sigCentral:
			stop(pos, "inside the central directory")
			return nil
		case got < 4 && bytesPrefixOf(h[:got], "PK\x03\x04"), got >= 4 && le.Uint32(h[:]) == sigLocal && got < localHeaderLen:
			stop(pos, "inside the local header of an entry")
			return nil
		case got < 4 || le.Uint32(h[:]) != sigLocal:
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: "zip entry @ byte " + strconv.FormatInt(pos, 10), Offset: pos,
				Message: fmt.Sprintf("%s: KMZ without a readable central directory (%v) and no local file header at byte %d; %d entries read before it", in.Path, why, pos, complete)})
			return nil
		}
		e := entry{flags: le.Uint16(h[6:]), method: le.Uint16(h[8:]), crc: le.Uint32(h[14:]),
			comp: int64(le.Uint32(h[18:])), size: int64(le.Uint32(h[22:])), header: pos}
		nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
		e.data = pos + localHeaderLen + nameLen + extraLen
		if e.data > in.Size {
			stop(pos, "inside the local header of an entry")
			return nil
		}
		name := make([]byte, nameLen)
		extra := make([]byte, extraLen)
		in.R.ReadAt(name, pos+localHeaderLen)
		in.R.ReadAt(extra, pos+localHeaderLen+nameLen)
		e.name = string(name)
		zip64Sizes(&e, extra)
		e.verified = e.flags&flagDescriptor == 0
		var after int64 // descriptor bytes after the data, when found by storedEnd
		if !e.verified {
			e.comp, e.size = -1, -1
			if e.method == zip.Store && e.flags&flagEncrypted == 0 {
				// Stored data does not end by itself: its end is the descriptor that gives its
				// length. Not found means the file ends inside the entry.
				if q, crc, ok := storedEnd(in, e.data); ok {
					e.comp, e.size, e.crc, e.verified, after = q-e.data, q-e.data, crc, true, 16
				} else {
					e.comp = in.Size - e.data + 1 // runs past the end: cut
				}
			}
		}
		if e.flags&flagEncrypted != 0 || (e.comp < 0 && e.method != zip.Deflate) {
			// Without a size the end of an encrypted entry, or one in another method, cannot
			// be found.
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: e.name, Offset: pos,
				Message: fmt.Sprintf("%s: entry %s at byte %d cannot be delimited without the central directory (%v); %d entries read before it", in.Path, e.name, pos, why, complete)})
			return nil
		}
		kml := isKMLName(e.name)
		if kml {
			n++
			if n > maxEntries {
				tooMany(in, sink, e.name)
				return nil
			}
		}
		end := in.Size
		if e.comp >= 0 {
			end = min(in.Size, e.data+e.comp)
		}
		raw := io.NewSectionReader(in.R, e.data, end-e.data)
		var o opened
		switch {
		case kml && e.size > maxEntry:
			declaredTooLarge(in, sink, e)
		case kml:
			var err error
			if o, err = decodeEntry(ctx, in, sink, ex, budget, e, raw, e.comp < 0); err != nil {
				return err
			}
		case e.comp < 0:
			o = skipEntry(e, raw, budget)
		}
		if o.failed {
			return nil
		}
		if e.comp >= 0 {
			pos = e.data + e.comp + after
		} else if o.ended {
			pos = e.data + o.used
		}
		if pos > in.Size || e.comp < 0 && !o.ended {
			// The file ends inside this entry's data. A KML entry's parser said so already,
			// unless the document ended before the cut.
			if !o.noted {
				stop(e.header, "inside entry "+e.name)
			}
			return nil
		}
		if e.comp < 0 {
			var crc uint32
			var found bool
			pos, crc, found = descriptor(in, pos)
			if found && crc != o.crc && kml && !o.noted {
				sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: e.name, Offset: e.header,
					Message: fmt.Sprintf("%s: entry %s at byte %d fails its CRC-32 (data descriptor); its positions are reported as read", in.Path, e.name, e.header)})
			}
		}
		complete++
	}
}

// storedEnd finds the end of a stored entry written with a data descriptor: the first descriptor
// signature whose two size fields both equal the bytes before it. It looks at most maxEntry
// bytes ahead. q is the offset of the descriptor, crc the CRC-32 it gives.
func storedEnd(in decoders.Input, data int64) (q int64, crc uint32, ok bool) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+16)
	for at := data; at < in.Size && at-data <= maxEntry; at += chunk {
		n, _ := in.R.ReadAt(buf, at)
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("PK\x07\x08"))
			if j < 0 || i+j >= chunk {
				break
			}
			i += j
			if i+16 <= len(b) {
				size := int64(binary.LittleEndian.Uint32(b[i+8:]))
				if size == at+int64(i)-data && int64(binary.LittleEndian.Uint32(b[i+12:])) == size {
					return at + int64(i), binary.LittleEndian.Uint32(b[i+4:]), true
				}
			}
			i++
		}
	}
	return 0, 0, false
}

func bytesPrefixOf(b []byte, s string) bool { return len(b) > 0 && string(b) == s[:len(b)] }

// hasEndRecord reports whether the end-of-central-directory record (APPNOTE 4.3.16, signature
// PK\x05\x06) lies within the last 64 KiB + 22 bytes, where a comment may push it.
func hasEndRecord(in decoders.Input) bool {
	n := min(in.Size, 0xFFFF+22)
	b := make([]byte, n)
	if _, err := in.R.ReadAt(b, in.Size-n); err != nil && err != io.EOF {
		return false
	}
	return bytes.LastIndex(b, []byte("PK\x05\x06")) >= 0
}

// zip64Sizes reads the sizes of a Zip64 extra field (APPNOTE 4.5.3) when the header's are
// 0xFFFFFFFF.
func zip64Sizes(e *entry, extra []byte) {
	if e.size != 0xFFFFFFFF && e.comp != 0xFFFFFFFF {
		return
	}
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		body := extra[4:min(len(extra), 4+n)]
		extra = extra[min(len(extra), 4+n):]
		if id != 0x0001 {
			continue
		}
		if e.size == 0xFFFFFFFF && len(body) >= 8 {
			e.size, body = int64(binary.LittleEndian.Uint64(body)&(1<<62-1)), body[8:]
		}
		if e.comp == 0xFFFFFFFF && len(body) >= 8 {
			e.comp = int64(binary.LittleEndian.Uint64(body) & (1<<62 - 1))
		}
	}
}

// descriptor reads the data descriptor after a streamed entry's data at off (APPNOTE 4.3.9:
// optional signature, crc-32, then 4- or 8-byte sizes) and returns where the next header starts
// and the CRC-32 it holds. found is false when no header follows where a descriptor would end:
// the file ends inside it, or the writer left none; the next header is then sought right after
// the 16-byte form.
func descriptor(in decoders.Input, off int64) (next int64, crc uint32, found bool) {
	var b [28]byte
	n, _ := in.R.ReadAt(b[:], off)
	start := 0
	if n >= 4 && binary.LittleEndian.Uint32(b[:]) == sigDescriptor {
		start = 4
	}
	for _, sizes := range []int{8, 16} {
		end := start + 4 + sizes
		if end+4 <= n {
			if sig := binary.LittleEndian.Uint32(b[end:]); sig == sigLocal || sig == sigCentral {
				return off + int64(end), binary.LittleEndian.Uint32(b[start:]), true
			}
		}
	}
	return min(off+int64(start)+12, in.Size), 0, false
}

package djilog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"droneaudit/decoders"
)

// Where the details, records and pictures sit, by version (formats §1 table, §7):
//
//	v≤5   prefix 12 | records | pictures | details (to EOF)         records end = detailOffset − Σimages
//	v6–11 prefix 100 | records | 12345 | pictures | details [| type-15 trailer record]
//	v12   prefix 100 | details (436) | records [| 12345 | pictures]
//	v13+  prefix 100 | aux 0 (details, XOR type 0) | aux 1 | records | 12345 | pictures
//
// The end of records always comes from the picture lengths, never from scanning for 0x39: type 57
// is a real record in v13+.

// errStop ends a decode whose notes already say why nothing more can be read.
var errStop = errors.New("stop")

// auxInfo is what the v13+ auxiliary blocks hold besides the details.
type auxInfo struct {
	present         bool
	infoVersion     int
	sigLen          int
	versionCategory int
	department      int
}

// readAt reads exactly len(b) bytes at off, or reports how many it got.
func (r *run) readAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= r.in.Size {
		return 0, io.EOF
	}
	n, err := r.in.R.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *run) layout() error {
	size := r.in.Size
	v := r.p.version
	switch {
	case v <= 11:
		r.recStart = int64(r.p.size)
		off := int64(r.p.word0)
		if r.p.word0 > uint64(size) || off < r.recStart {
			r.detBeyond = r.p.word0 > uint64(size)
			r.note(decoders.Warning, decoders.CodeCorruptDetails, 0, "prefix",
				fmt.Sprintf("offset 0: details offset %d lies outside the file (%d bytes); the records are walked to the end", r.p.word0, size), nil)
			r.recEnd = size
			r.detWhy = "details offset out of range"
			break
		}
		r.detOff = off
		r.recEnd = off
		r.readDetails(off, detailsLenV6, off)
	case v == 12:
		// No sample exists; lvauvillier reads a plain 436-byte block at 100 (formats §1, §16).
		r.detOff = newPrefixLen
		r.recStart = newPrefixLen + detailsLenV12
		r.recEnd = size
		r.readDetails(r.detOff, detailsLenV12, size)
	default:
		r.recEnd = size
		if err := r.readAux(); err != nil {
			return err
		}
	}
	r.locateEnd()
	return nil
}

// readDetails reads and validates a plain details block of length n at off; base bounds the
// picture lengths.
func (r *run) readDetails(off int64, n int, base int64) {
	buf := make([]byte, n)
	got, err := r.readAt(buf, off)
	if err != nil || got < detailsLenV6 {
		r.detWhy = fmt.Sprintf("only %d of %d bytes present", got, n)
		code := decoders.CodeCorruptDetails
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			code = decoders.CodeTruncated // the file ends inside the details: it was cut
		}
		r.note(decoders.Warning, code, off, "details",
			fmt.Sprintf("offset %d: the file (%d bytes) ends inside the details block, which starts at byte %d (%s); the records are still decoded", off, r.in.Size, off, r.detWhy), nil)
		return
	}
	r.acceptDetails(parseDetails(buf[:got], r.p.version), off, base)
}

func (r *run) acceptDetails(d details, off, base int64) {
	r.detRaw = &d
	if why := d.validate(base, r.now); why != "" {
		r.detWhy = why
		r.note(decoders.Warning, decoders.CodeCorruptDetails, off, "details",
			fmt.Sprintf("offset %d: details (summary) block rejected: %s; its take-off point, times and serials are not trusted, the records are still decoded", off, why),
			map[string]string{"reason": why})
		return
	}
	r.det = &d
}

// readAux parses the two auxiliary blocks of v13+ (formats §6.1) and sets the records start.
func (r *run) readAux() error {
	off := int64(newPrefixLen)
	var hdr [3]byte
	if _, err := r.readAt(hdr[:], off); err != nil || hdr[0] != 0 {
		return fmt.Errorf("%s: offset %d: no info block (magic %d) where v%d puts it", r.in.Path, off, hdr[0], r.p.version)
	}
	n := int(binary.LittleEndian.Uint16(hdr[1:]))
	if end := off + 3 + int64(n); end > r.in.Size {
		// Past the end of the file: cut there, unless the prefix says the records start before
		// the block would end, in which case the length is too large for the file's layout.
		if w := r.p.word0; w > uint64(off) && w < uint64(end) {
			r.note(decoders.Warning, decoders.CodeTooLarge, off, "info block",
				fmt.Sprintf("offset %d: the info block declares %d bytes, past byte %d where the prefix says the records start; nothing more can be read", off, n, w), nil)
		} else {
			r.note(decoders.Warning, decoders.CodeTruncated, off, "info block",
				fmt.Sprintf("offset %d: the file ends at byte %d inside the info block (details) that starts at byte %d (%d bytes declared); nothing more can be read", off, r.in.Size, off, n), nil)
		}
		return errStop
	}
	payload := make([]byte, n)
	if _, err := r.readAt(payload, off+3); err != nil || n < 3 {
		return fmt.Errorf("%s: offset %d: info block of %d bytes is unreadable", r.in.Path, off, n)
	}
	r.aux.present = true
	k, ok := checkScrambled(payload, 0, r.p.magicVer)
	if !ok {
		r.note(decoders.Warning, decoders.CodeBadCheck, off, "info block", fmt.Sprintf("offset %d: info block check byte does not match; decoded anyway", off), nil)
	}
	c := descramble(make([]byte, n), payload, k)
	// content: infoVersion u8 | infoLen u16 | details[infoLen] | sigLen u16 | signature
	if len(c) >= 3 {
		r.aux.infoVersion = int(c[0])
		il := int(binary.LittleEndian.Uint16(c[1:]))
		if il >= detailsLenV6 && 3+il <= len(c) {
			// 3-byte aux header, seed byte, 3-byte info header: the details start 7 bytes in.
			r.detOff = off + 7
			r.acceptDetails(parseDetails(c[3:3+il], r.p.version), r.detOff, r.in.Size)
			if 3+il+2 <= len(c) {
				r.aux.sigLen = int(binary.LittleEndian.Uint16(c[3+il:]))
			}
		} else {
			r.detWhy = fmt.Sprintf("info block holds %d details bytes", il)
			r.note(decoders.Warning, decoders.CodeCorruptDetails, off, "info block", fmt.Sprintf("offset %d: %s, want at least %d", off, r.detWhy, detailsLenV6), nil)
		}
	}
	next := off + 3 + int64(n)
	if _, err := r.readAt(hdr[:], next); err == nil && hdr[0] == 1 {
		m := int64(binary.LittleEndian.Uint16(hdr[1:]))
		var ver [4]byte
		if m >= 3 {
			if _, err := r.readAt(ver[:3], next+3); err == nil {
				r.aux.versionCategory = int(binary.LittleEndian.Uint16(ver[:]))
				r.aux.department = int(ver[2])
			}
		}
		next += 3 + m
	}
	// The prefix word names the records start; it is 0 in an unfinished file, which then starts
	// right after the aux blocks (formats §2, lvauvillier lib.rs).
	r.recStart = next
	if w := r.p.word0; w != 0 && w != uint64(next) {
		if w > uint64(newPrefixLen) && w < uint64(r.in.Size) {
			r.recStart = int64(w)
		}
		r.note(decoders.Warning, decoders.CodeLayout, 0, "prefix", fmt.Sprintf("offset 0: records start %d in the prefix, aux blocks end at %d; using %d", w, next, r.recStart), nil)
	}
	return nil
}

// locateEnd applies the picture arithmetic of formats §7: base − Σimages − 4 must hold int32
// 12345; v≤5 has no marker.
func (r *run) locateEnd() {
	if r.det == nil {
		return
	}
	base := r.in.Size
	if r.p.version <= 11 {
		base = r.detOff
	}
	sum, _ := r.det.imagesSum(base)
	if r.p.version <= 5 {
		if end := base - sum; end >= r.recStart {
			r.recEnd, r.imgStart, r.endKnown = end, end, true
		}
		return
	}
	m := base - sum - 4
	var b [4]byte
	if m >= r.recStart {
		if _, err := r.readAt(b[:], m); err == nil && binary.LittleEndian.Uint32(b[:]) == detailsCheck {
			r.recEnd, r.imgStart, r.endKnown = m, m+4, true
			return
		}
	}
	r.noMarker = r.p.version >= 12
	r.note(decoders.Warning, decoders.CodeNoMarker, m, "", fmt.Sprintf("offset %d: no end-of-records marker 12345 where the picture lengths put it; records are walked to offset %d", m, r.recEnd), nil)
}

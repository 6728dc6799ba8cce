package tls

import "fmt"

// Finding the records again after a hole. Once a direction is decrypting, a lost TCP segment
// costs only the records it touched: the bytes after the hole are searched for a record header,
// and a candidate counts only when it opens under the direction's key with one of the next
// sequence numbers. The AEAD tag (or the CBC MAC) proves the boundary and the sequence number,
// so the search cannot produce garbage. A key change lost in the hole (a TLS 1.3 KeyUpdate, a
// TLS 1.2 renegotiation) makes every candidate fail, and the direction is given up after
// maxResyncBytes.

const (
	// maxResyncSeq is how many sequence numbers past the last one a candidate is tried with:
	// records lost in the hole. A TCP hole that reassembly gave up on is rarely more than a few
	// segments; 256 records are 4 MB of full records.
	maxResyncSeq = 256
	// maxResyncBytes bounds the bytes searched before the direction is given up.
	maxResyncBytes = 4 << 20
)

// canResync reports whether a direction can look for its records after a hole: it must be
// decrypting with a key that needs no state from the records before (not TLS 1.0's chained IV).
func (s *Session) canResync(h *half) bool {
	if h.cipher == nil || !h.opened && !s.masterOK {
		return false
	}
	if s.tls13 {
		return h.epoch == epochApplication
	}
	cb, ok := h.cipher.(*cbc)
	return !ok || cb.implied == nil
}

// startResync puts a direction into the search after a hole at stream offset off.
func (s *Session) startResync(h *half, off int64, lost string) {
	h.skipped += int64(len(h.buf))
	h.buf = h.buf[:0]
	h.hs = hsReader{} // a handshake message cut by the hole cannot be finished
	h.resync, h.rbuf, h.rscan, h.searched = true, h.rbuf[:0], 0, 0
	s.event(h.dir, off, EventGap, "%s lost: looking for the next record that opens under the %s key", lost, dirWord(h.dir))
	if s.reason == "" {
		s.reason = fmt.Sprintf("%s of the %s's stream lost at offset %d; the records it touched are skipped", lost, dirWord(h.dir), off)
	}
}

// feedResync adds bytes to a direction that is searching; it returns the bytes after the record
// it found, to be framed as usual, or nil.
func (s *Session) feedResync(h *half, p []byte) []byte {
	if cap(h.rbuf) == 0 {
		h.rbuf = make([]byte, 0, 2*(recordHeaderLen+maxRecordLen))
	}
	for len(p) > 0 {
		k := min(len(p), cap(h.rbuf)-len(h.rbuf))
		h.rbuf = append(h.rbuf, p[:k]...)
		p = p[k:]
		if rest, ok := s.search(h); ok {
			return append(rest, p...)
		}
		if h.dead {
			return nil
		}
	}
	return nil
}

// search scans the held bytes; on success it leaves the search and returns the bytes after the
// record found (a copy).
func (s *Session) search(h *half) ([]byte, bool) {
	ver := s.sh.version
	if s.tls13 {
		ver = VersionTLS12 // the legacy record version of TLS 1.3
	}
	b := h.rbuf
	i := h.rscan
	plain := takeRecordBuf()
	defer giveRecordBuf(plain)
	for ; i+recordHeaderLen <= len(b); i++ {
		if b[i] != typeApplicationData && b[i] != typeHandshake && b[i] != typeAlert {
			continue
		}
		if s.tls13 && b[i] != typeApplicationData {
			continue
		}
		if uint16(b[i+1])<<8|uint16(b[i+2]) != ver {
			continue
		}
		n := int(b[i+3])<<8 | int(b[i+4])
		if n > maxRecordLen || n == 0 {
			continue
		}
		if i+recordHeaderLen+n > len(b) {
			break // wait for the rest of the candidate
		}
		rec := b[i : i+recordHeaderLen+n]
		for seq := h.seq; seq < h.seq+maxResyncSeq; seq++ {
			pt, err := h.cipher.open(plain, seq, rec[:recordHeaderLen], rec[recordHeaderLen:])
			if err != nil {
				continue
			}
			off := h.pos + int64(i)
			h.skipped += int64(i)
			s.event(h.dir, off, EventSkipped, "records found again at offset %d: %d bytes and %d records lost", off, i, seq-h.seq)
			h.resync = false
			h.seq = seq + 1
			h.pos = off + int64(len(rec))
			idx := h.records
			h.records++
			h.appRecs++
			if s.tls13 {
				s.opened13(h, off, idx, pt, false)
			} else {
				s.deliver(h, off, idx, rec[0], pt, false)
			}
			rest := append([]byte(nil), b[i+len(rec):]...)
			h.rbuf = h.rbuf[:0]
			return rest, true
		}
	}
	// Drop what was searched, keeping a possible header start.
	h.searched += i
	h.skipped += int64(i)
	h.pos += int64(i)
	h.rbuf = h.rbuf[:copy(h.rbuf[:cap(h.rbuf)], b[i:])]
	h.rscan = 0
	if h.searched > maxResyncBytes {
		s.stop(h, h.pos, EventGap, "no record opened in %d bytes after the hole: the rest of this direction is skipped", h.searched)
	}
	if len(h.rbuf) == cap(h.rbuf) {
		// The buffer holds two whole records, so a candidate this long cannot be one: move on.
		h.rbuf = h.rbuf[:copy(h.rbuf, h.rbuf[1:])]
		h.pos++
		h.skipped++
		h.searched++
	}
	return nil, false
}

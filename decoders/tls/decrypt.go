package tls

import (
	"bytes"
	"fmt"
	"sync"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// Record layer limits (RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048; RFC 8446 §5.2
// allows 2^14 + 256). A longer length means the bytes are not TLS, or the framing is lost.
const (
	recordHeaderLen = 5
	maxRecordLen    = 16384 + 2048
	// recordBufCap holds a whole protected record, or the plaintext opened from one.
	recordBufCap = recordHeaderLen + maxRecordLen + 256
)

// Record buffers (a record being reassembled, the plaintext of one being opened) come from a
// pool and go back as soon as the record is done: a lab capture holds thousands of TLS sessions
// at once, mostly idle, and two buffers of 18 KiB per direction kept by each of them made the
// heap of a 140 MB capture grow past the memory limit, with the collector running without pause.
var recordBufs = sync.Pool{New: func() any { b := make([]byte, 0, recordBufCap); return &b }}

func takeRecordBuf() []byte { return (*recordBufs.Get().(*[]byte))[:0] }

// giveRecordBuf returns a buffer takeRecordBuf gave; the caller no longer uses it.
func giveRecordBuf(b []byte) {
	if cap(b) == recordBufCap {
		b = b[:0]
		recordBufs.Put(&b)
	}
}

// Record content types (RFC 8446 §5.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
	typeHeartbeat        = 24
)

// epochs of a TLS 1.3 direction.
const (
	epochClear = iota
	epochHandshake
	epochApplication
)

// pendingRec is a record held until the other side's hello is known.
type pendingRec struct {
	off int64
	idx int
	rec []byte
}

// half is the state of one direction.
type half struct {
	dir     netflow.Direction
	buf     []byte // a record whose bytes have not all arrived
	pos     int64  // stream offset of the next record (the start of buf)
	records int
	hs      hsReader
	// protection
	cipher  recordCipher
	seq     uint64
	epoch   int          // TLS 1.3
	secret  []byte       // TLS 1.3 current traffic secret
	early   *aead13      // TLS 1.3 client: 0-RTT key while early records may come
	earlySq uint64       //
	trial   *aead13      // TLS 1.3: application key tried when the handshake secret is missing
	trials  int          // records tried against trial
	opened  bool         // a record of this direction was decrypted
	pending []pendingRec //
	pendN   int          // bytes in pending
	dead    bool         // nothing more is decrypted in this direction
	deadErr EventKind    //
	appRecs int          // records decrypted
	skipped int64        //
	firstOK bool         // the first record of the direction was a handshake record
	seen    bool         // a record was seen
	// after a hole (resync.go)
	resync   bool
	rbuf     []byte
	rscan    int
	searched int
}

// Session decrypts one TLS connection. Use NewSession; feed both directions with Feed; call
// Close at the end. A Session is used by one goroutine at a time; the Log it shares is safe for
// concurrent use.
type Session struct {
	cfg Config
	h   [2]half
	sum Summary
	ch  *ClientHello
	sh  *serverHello
	st  *suite
	// draft is the TLS 1.3 draft number when a draft was negotiated, 0 otherwise.
	draft    int
	tls13    bool
	master   []byte // TLS 1.2 master secret once found
	masterOK bool   // a record decrypted with it
	ticket   []byte // TLS 1.2 ticket issued in this session
	secrets  *tlskeys.Secrets
	decided  Status // a fatal status for the whole session, when not StatusIncomplete
	reason   string
	draining bool
	redrain  bool
	lossy    bool // a direction had a hole
	data     Data // handed to OnData, reused: valid only during the call
	closed   bool
}

// NewSession returns a Session for one connection.
func NewSession(cfg Config) *Session {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	s := &Session{cfg: cfg}
	for i := range s.h {
		s.h[i].dir = netflow.Direction(i)
	}
	return s
}

func (s *Session) event(dir netflow.Direction, off int64, kind EventKind, format string, args ...any) {
	e := Event{Kind: kind, Dir: dir, Offset: off, Reason: sprintf(format, args)}
	if len(s.sum.Events) < maxEvents {
		s.sum.Events = append(s.sum.Events, e)
	} else {
		s.sum.DroppedEvent++
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

// sprintf formats an event's reason; a reason without arguments is used as it is, without
// fmt's parsing (the reasons of a capture with no key material at all, one per session).
func sprintf(format string, args []any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// noKeyMaterial is the reason of a session met while the run has no secret at all.
const noKeyMaterial = "no key material: no key log given, and no Decryption Secrets Block read so far"

// noKeys reports whether the run has no secret at all.
func (s *Session) noKeys() bool { return s.cfg.Keys == nil || s.cfg.Keys.Len() == 0 }

// stop ends decryption of one direction; its remaining bytes are counted as skipped.
func (s *Session) stop(h *half, off int64, kind EventKind, format string, args ...any) {
	if h.dead {
		return
	}
	h.dead, h.deadErr = true, kind
	s.event(h.dir, off, kind, format, args...)
	if s.reason == "" {
		s.reason = sprintf(format, args)
	}
	for _, p := range h.pending {
		h.skipped += int64(len(p.rec))
	}
	h.pending, h.pendN = nil, 0
	h.skipped += int64(len(h.buf))
	giveRecordBuf(h.buf)
	h.buf = nil
}

// fail ends decryption of the whole session (both directions) with one status.
func (s *Session) fail(h *half, off int64, status Status, kind EventKind, format string, args ...any) {
	if s.decided == StatusIncomplete {
		s.decided = status
	}
	s.stop(h, off, kind, format, args...)
	o := &s.h[1-h.dir]
	if !o.dead {
		o.dead, o.deadErr = true, kind
		for _, p := range o.pending {
			o.skipped += int64(len(p.rec))
		}
		o.pending, o.pendN = nil, 0
	}
}

// Feed adds the next in-order bytes of one direction (netflow.ClientToServer or
// ServerToClient).
func (s *Session) Feed(dir netflow.Direction, p []byte) {
	h := &s.h[dir&1]
	if s.closed {
		return
	}
	for len(p) > 0 {
		if h.dead {
			h.skipped += int64(len(p))
			h.pos += int64(len(p))
			return
		}
		if h.resync {
			if p = s.feedResync(h, p); p == nil {
				return
			}
			continue
		}
		if len(h.buf) == 0 {
			// Whole records straight from p, without a copy.
			if len(p) >= recordHeaderLen {
				n, ok := s.header(h, p)
				if !ok {
					continue
				}
				if len(p) >= recordHeaderLen+n {
					off := h.pos
					h.pos += int64(recordHeaderLen + n)
					s.record(h, off, p[:recordHeaderLen+n])
					p = p[recordHeaderLen+n:]
					continue
				}
			}
			if cap(h.buf) == 0 {
				h.buf = takeRecordBuf()
			}
			h.buf = append(h.buf, p...)
			return
		}
		if len(h.buf) < recordHeaderLen {
			k := min(recordHeaderLen-len(h.buf), len(p))
			h.buf = append(h.buf, p[:k]...)
			p = p[k:]
			if len(h.buf) < recordHeaderLen {
				return
			}
		}
		n, ok := s.header(h, h.buf)
		if !ok {
			continue
		}
		k := min(recordHeaderLen+n-len(h.buf), len(p))
		h.buf = append(h.buf, p[:k]...)
		p = p[k:]
		if len(h.buf) == recordHeaderLen+n {
			off := h.pos
			h.pos += int64(len(h.buf))
			s.record(h, off, h.buf)
			if !h.dead {
				// Back to the pool between records: a capture holds thousands of idle sessions.
				giveRecordBuf(h.buf)
				h.buf = nil
			}
		}
	}
}

// header checks a record header; on failure the direction is stopped.
func (s *Session) header(h *half, b []byte) (int, bool) {
	typ, n := b[0], int(b[3])<<8|int(b[4])
	if typ >= typeChangeCipherSpec && typ <= typeHeartbeat && b[1] == 3 && n <= maxRecordLen {
		return n, true
	}
	if !h.seen {
		if h.dir == netflow.ClientToServer {
			s.fail(h, h.pos, StatusNotTLS, EventNotTLS, "the connection does not start with a TLS record (bytes %x): not TLS, or joined mid-stream inside a record", b[:recordHeaderLen])
		} else {
			s.stop(h, h.pos, EventNotTLS, "the server's bytes are not TLS records (bytes %x)", b[:recordHeaderLen])
		}
	} else {
		s.stop(h, h.pos, EventNotTLS, "bytes %x are not a TLS record header: framing lost", b[:recordHeaderLen])
	}
	return 0, false
}

// Gap says that bytes of one direction were lost before the next Feed (n of them when known,
// else 0). TLS records cannot be found again after a hole, so the rest of the direction is
// skipped.
func (s *Session) Gap(dir netflow.Direction, n int64) {
	h := &s.h[dir&1]
	if h.dead || s.closed {
		h.pos += n
		return
	}
	s.lossy = true
	h.skipped += max(n, 0)
	lost := "bytes"
	if n > 0 {
		lost = fmt.Sprintf("%d bytes", n)
	}
	off := h.pos
	h.pos += int64(len(h.buf)) + n
	switch {
	case dir == netflow.ClientToServer && s.ch == nil:
		s.fail(h, off, StatusNoHandshake, EventGap, "%s lost before the ClientHello was whole: the session cannot be followed", lost)
	case dir == netflow.ServerToClient && s.sh == nil:
		s.fail(h, off, StatusNoHandshake, EventGap, "%s lost before the ServerHello was whole: the session cannot be followed", lost)
	case s.canResync(h) && len(h.pending) == 0:
		s.startResync(h, off, lost)
	default:
		s.stop(h, off, EventGap, "%s lost: the rest of this direction cannot be framed and is skipped", lost)
	}
}

// record handles one whole record of a direction, or holds it until the other side's hello.
func (s *Session) record(h *half, off int64, rec []byte) {
	idx := h.records
	h.records++
	h.seen = true
	if s.mustWait(h) {
		if h.pendN+len(rec) > s.cfg.MaxPending {
			s.stop(h, off, EventSkipped, "more than %d bytes waiting for the %s", s.cfg.MaxPending, s.awaited(h))
			h.skipped += int64(len(rec))
			return
		}
		h.pending = append(h.pending, pendingRec{off: off, idx: idx, rec: bytes.Clone(rec)})
		h.pendN += len(rec)
		return
	}
	s.process(h, off, idx, rec)
}

func (s *Session) awaited(h *half) string {
	if h.dir == netflow.ClientToServer {
		return "ServerHello"
	}
	return "ClientHello"
}

// mustWait: the client's records after its ClientHello need the ServerHello (version, suite);
// the server's records need the ClientHello (random, offered extensions).
func (s *Session) mustWait(h *half) bool {
	if len(h.pending) > 0 && !s.draining {
		return true
	}
	if h.dir == netflow.ClientToServer {
		return s.ch != nil && s.sh == nil
	}
	return s.ch == nil
}

// drain processes the records either direction held, as far as the hellos now allow. Called
// while a drain runs (a held record brought the awaited hello), it only asks that run for
// another pass.
func (s *Session) drain() {
	if s.draining {
		s.redrain = true
		return
	}
	s.draining = true
	for again := true; again; {
		again, s.redrain = false, false
		for i := range s.h {
			h := &s.h[i]
			for len(h.pending) > 0 && !h.dead && !s.mustWaitNow(h) {
				p := h.pending[0]
				h.pending = h.pending[1:]
				h.pendN -= len(p.rec)
				s.process(h, p.off, p.idx, p.rec)
				again = true
			}
			if len(h.pending) == 0 {
				h.pending = nil
			}
		}
		again = again || s.redrain
	}
	s.draining = false
}

func (s *Session) mustWaitNow(h *half) bool {
	if h.dir == netflow.ClientToServer {
		return s.ch != nil && s.sh == nil
	}
	return s.ch == nil
}

// process handles a record in order.
func (s *Session) process(h *half, off int64, idx int, rec []byte) {
	if h.dead {
		h.skipped += int64(len(rec))
		return
	}
	typ := rec[0]
	if idx == 0 && !h.firstOK {
		if typ != typeHandshake && !(typ == typeAlert && h.dir == netflow.ServerToClient) {
			s.fail(h, off, StatusNoHandshake, EventMidStream, "first %s record is of type %d, not a handshake: joined mid-stream", dirWord(h.dir), typ)
			h.skipped += int64(len(rec))
			return
		}
		h.firstOK = true
	}
	if s.tls13 {
		s.process13(h, off, idx, rec)
		return
	}
	if h.cipher != nil {
		s.open12(h, off, idx, rec)
		return
	}
	s.clear(h, off, idx, typ, rec[recordHeaderLen:])
}

func dirWord(d netflow.Direction) string {
	if d == netflow.ClientToServer {
		return "client"
	}
	return "server"
}

// clear handles an unprotected record.
func (s *Session) clear(h *half, off int64, idx int, typ byte, frag []byte) {
	switch typ {
	case typeHandshake:
		s.handshakeBytes(h, off, frag)
	case typeChangeCipherSpec:
		if !s.tls13 {
			s.changeCipher12(h, off)
		}
	case typeAlert:
		s.alert(h, off, frag)
	case typeApplicationData:
		h.skipped += int64(len(frag) + recordHeaderLen)
		s.event(h.dir, off, EventSkipped, "application data record %d before the keys changed: not protected by any key this session knows", idx)
	}
}

var alertNames = map[byte]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension", 110: "unsupported_extension",
	112: "unrecognized_name", 116: "certificate_required", 120: "no_application_protocol",
}

func (s *Session) alert(h *half, off int64, b []byte) {
	if len(b) < 2 {
		s.event(h.dir, off, EventAlert, "short alert")
		return
	}
	name := alertNames[b[1]]
	if name == "" {
		name = fmt.Sprintf("alert %d", b[1])
	}
	level := "warning"
	if b[0] == 2 {
		level = "fatal"
	}
	s.event(h.dir, off, EventAlert, "%s %s", level, name)
}

// deliver hands on a record's plaintext by its (inner) content type.
func (s *Session) deliver(h *half, off int64, idx int, typ byte, pt []byte, early bool) {
	switch typ {
	case typeApplicationData:
		s.sum.AppBytes[h.dir] += int64(len(pt))
		if s.cfg.OnData != nil && len(pt) > 0 {
			s.data = Data{Dir: h.dir, Offset: off, Record: idx, Early: early, Bytes: pt}
			s.cfg.OnData(&s.data)
		}
	case typeHandshake:
		s.handshakeBytes(h, off, pt)
	case typeAlert:
		s.alert(h, off, pt)
	case typeChangeCipherSpec:
		if !s.tls13 {
			s.changeCipher12(h, off) // a renegotiation's ChangeCipherSpec, itself protected
		}
	}
}

// handshakeBytes feeds handshake bytes of a direction and acts on the messages.
func (s *Session) handshakeBytes(h *half, off int64, frag []byte) {
	h.hs.feed(frag, func(typ uint8, body []byte, n int) {
		if h.dead {
			return
		}
		if h.dir == netflow.ClientToServer && s.ch == nil && typ != hsClientHello {
			s.fail(h, off, StatusNoHandshake, EventMidStream, "first client handshake message is of type %d, not a ClientHello: joined mid-stream", typ)
			return
		}
		if h.dir == netflow.ServerToClient && s.sh == nil && typ != hsServerHello && typ != hsHelloRetryDraft {
			s.fail(h, off, StatusNoHandshake, EventMidStream, "first server handshake message is of type %d, not a ServerHello", typ)
			return
		}
		if body == nil && keptType(typ) {
			s.event(h.dir, off, EventSkipped, "handshake message of type %d is %d bytes, over the limit", typ, n)
			if typ == hsClientHello || typ == hsServerHello {
				s.fail(h, off, StatusNoHandshake, EventSkipped, "hello over the size limit")
			}
			return
		}
		s.message(h, off, typ, body)
	})
}

// message acts on one handshake message.
func (s *Session) message(h *half, off int64, typ uint8, body []byte) {
	switch {
	case typ == hsClientHello && h.dir == netflow.ClientToServer:
		msg := make([]byte, 4+len(body))
		msg[0], msg[1], msg[2], msg[3] = 1, byte(len(body)>>16), byte(len(body)>>8), byte(len(body))
		copy(msg[4:], body)
		ch, err := ParseClientHello(msg)
		if err != nil || ch == nil {
			if s.ch == nil {
				s.fail(h, off, StatusNoHandshake, EventNotTLS, "ClientHello does not parse: %v", err)
			}
			return
		}
		first := s.ch == nil
		s.ch = ch
		s.sum.ClientRandom = bytes.Clone(ch.Random[:])
		if first {
			s.sum.ServerName = ch.ServerName
			s.drain()
		} else if !s.tls13 {
			// A renegotiation (RFC 5246 §7.4.1.2): new randoms, a new master secret at the
			// next ChangeCipherSpec.
			s.master, s.masterOK, s.ticket = nil, false, nil
		}
	case (typ == hsServerHello || typ == hsHelloRetryDraft) && h.dir == netflow.ServerToClient:
		s.serverHello(h, off, typ, body)
	case typ == hsNewSessionTicket && h.dir == netflow.ServerToClient && !s.tls13:
		if t := ticketOf(body); t != nil {
			s.ticket = bytes.Clone(t)
			if s.masterOK && s.cfg.Keys != nil {
				s.cfg.Keys.Remember("ticket", s.ticket, s.master)
			}
		}
	case typ == hsEncryptedExtensions && s.tls13:
		if a := encryptedExtensionsALPN(body); a != "" {
			s.sum.ALPN = a
		}
	case typ == hsFinished && s.tls13:
		s.enter13(h, off, epochApplication)
	case typ == hsEndOfEarlyData && s.tls13:
		h.early = nil
	case typ == hsKeyUpdate && s.tls13 && h.epoch == epochApplication:
		s.keyUpdate(h, off, body)
	}
}

func (s *Session) serverHello(h *half, off int64, typ uint8, body []byte) {
	if typ == hsHelloRetryDraft {
		// A draft HelloRetryRequest: a second ClientHello and the real ServerHello follow.
		s.sum.HelloRetry = true
		return
	}
	sh, err := parseServerHello(body)
	if err != nil {
		s.fail(h, off, StatusNoHandshake, EventNotTLS, "ServerHello does not parse")
		return
	}
	if sh.retry {
		s.sum.HelloRetry = true
	}
	s.sh = sh
	s.sum.Version, s.sum.Suite, s.sum.SuiteName = sh.version, sh.suite, SuiteName(sh.suite)
	if sh.alpn != "" {
		s.sum.ALPN = sh.alpn
	}
	v := sh.version
	switch {
	case v == VersionTLS13:
		s.tls13 = true
	case v>>8 == 0x7f:
		s.tls13, s.draft = true, int(v&0xff)
	case v >= VersionTLS10 && v <= VersionTLS12:
	default:
		s.fail(h, off, StatusUnsupported, EventUnsupported, "protocol %s is not supported", VersionName(v))
		return
	}
	if s.draft != 0 && (s.draft < 20 || s.draft > 28) {
		s.fail(h, off, StatusUnsupported, EventUnsupported, "TLS 1.3 draft-%d is not supported (drafts 20 to 28 are)", s.draft)
		return
	}
	st := suites[sh.suite]
	if st == nil || st.tls13 != s.tls13 || (!s.tls13 && v < VersionTLS12 && st.kind != kindCBC) {
		s.fail(h, off, StatusUnsupported, EventUnsupported, "cipher suite %s with %s is not supported", SuiteName(sh.suite), VersionName(v))
		return
	}
	s.st = st
	if s.tls13 {
		s.sum.Resumed = sh.psk
	} else if s.ch != nil && len(sh.sessionID) > 0 && bytes.Equal(sh.sessionID, s.ch.SessionID) {
		s.sum.Resumed = true
	}
	// After a HelloRetryRequest the client's second ClientHello follows in the clear; after a
	// ServerHello, its protected records.
	s.drain()
}

// Close ends the session: a record cut at the end of a direction, and records still waiting for
// a hello that never came, are reported. It returns the summary.
func (s *Session) Close() Summary {
	if s.closed {
		return s.Summary()
	}
	for i := range s.h {
		h := &s.h[i]
		if h.dead {
			continue
		}
		if len(h.buf) > 0 {
			want := "?"
			if len(h.buf) >= recordHeaderLen {
				want = fmt.Sprint(recordHeaderLen + (int(h.buf[3])<<8 | int(h.buf[4])))
			}
			s.stop(h, h.pos, EventTruncated, "the direction ends inside a record: %d of %s bytes", len(h.buf), want)
		}
		if h.resync {
			h.skipped += int64(len(h.rbuf))
			s.stop(h, h.pos, EventGap, "the direction ended before a record opened after the hole")
		}
		if len(h.pending) > 0 {
			s.stop(h, h.pending[0].off, EventSkipped, "%d records skipped: the %s never came", len(h.pending), s.awaited(h))
		}
		if h.hs.started() && s.ch == nil && h.dir == netflow.ClientToServer {
			s.fail(h, h.pos, StatusNoHandshake, EventTruncated, "the ClientHello is cut")
		}
	}
	s.closed = true
	return s.Summary()
}

// Summary returns what the session has shown so far.
func (s *Session) Summary() Summary {
	out := s.sum
	out.Events = append([]Event(nil), s.sum.Events...)
	for i := range s.h {
		out.Records[i] = s.h[i].records
		out.Skipped[i] = s.h[i].skipped
	}
	out.Decrypted = [2]int{s.h[0].appRecs, s.h[1].appRecs}
	out.Status, out.Reason = s.status()
	return out
}

func (s *Session) status() (Status, string) {
	if s.decided != StatusIncomplete {
		return s.decided, s.reason
	}
	worst := StatusIncomplete
	reason := ""
	for _, k := range []EventKind{EventWrongKeys, EventNoKeys, EventUnsupported} {
		for i := range s.h {
			if s.h[i].dead && s.h[i].deadErr == k {
				switch k {
				case EventWrongKeys:
					worst = StatusWrongKeys
				case EventNoKeys:
					worst = StatusNoKeys
				default:
					worst = StatusUnsupported
				}
				for _, e := range s.sum.Events {
					if e.Kind == k {
						reason = e.Reason
						break
					}
				}
				return worst, reason
			}
		}
	}
	decrypted := s.h[0].appRecs + s.h[1].appRecs
	skipped := s.h[0].skipped + s.h[1].skipped
	switch {
	case decrypted > 0 && skipped == 0 && !s.lossy && !s.h[0].dead && !s.h[1].dead:
		return StatusDecrypted, ""
	case decrypted > 0:
		return StatusPartial, s.reason
	case s.ch != nil && s.h[1].records > 0 && s.sh == nil && s.h[1].dead:
		return StatusNoHandshake, s.reason
	}
	return StatusIncomplete, s.reason
}

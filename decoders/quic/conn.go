package quic

import (
	"bytes"
	"fmt"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// Status says how far a connection could be opened.
type Status uint8

// Statuses of a Conn, from worst to best.
const (
	// StatusNoHello: the client's Initial packets did not give a whole ClientHello (joined
	// mid-connection, lost packets, or not QUIC), so its secrets cannot be found.
	StatusNoHello Status = iota
	// StatusNoKeys: the key log has no 1-RTT secrets for the ClientHello's random.
	StatusNoKeys
	// StatusWrongKeys: secrets were found but no protected packet authenticates under them.
	StatusWrongKeys
	// StatusDecrypted: packets were opened with the key log's secrets.
	StatusDecrypted
)

func (s Status) String() string {
	return [...]string{"no ClientHello", "no keys", "wrong keys", "decrypted"}[s]
}

// Packet number spaces (RFC 9000 §12.3); 0-RTT and 1-RTT share the application space.
const (
	spaceInitial = iota
	spaceHandshake
	spaceApp
)

// Counts of a connection's packets.
type Counts struct {
	Datagrams   int
	Initial     int // client Initial packets read (keys from the connection ID)
	Handshake   int // Handshake packets opened
	ZeroRTT     int // 0-RTT packets opened
	OneRTT      int // 1-RTT packets opened
	KeyUpdates  int // 1-RTT key phase changes followed
	Undecrypted int // protected packets (Handshake, 0-RTT, 1-RTT) that no key opened
	Unreadable  int // packets or frames that could not be parsed
}

// Summary is the state of a connection when it ends.
type Summary struct {
	Status     Status
	Reason     string // why it is not decrypted, or the first problem met
	Version    uint32
	ServerName string
	Suite      string // the TLS cipher suite that opened the packets
	Counts     Counts
	Streams    StreamStats
	// Close is the CONNECTION_CLOSE reason phrase seen, if any.
	Close string
}

// Conn decrypts one QUIC connection passively, from the UDP payloads of both directions in
// capture order: the client's Initial packets give the ClientHello, whose random finds the
// connection's TLS secrets in a key log; Handshake, 0-RTT and 1-RTT packets are then opened with
// keys expanded from those secrets (RFC 9001 §5), following key updates (§6), and the STREAM
// frames of the application space are reassembled per stream and handed to OnStream in order.
// Nothing that does not authenticate is handed on.
type Conn struct {
	keys     *tlskeys.Log
	onStream func(StreamData)

	hello    *Tracker
	version  uint32
	secrets  *tlskeys.Secrets
	suite    suite
	hs       [2]*protection
	early    *protection
	app      [2]*keyPhases
	cids     [2][][]byte // connection IDs a short header sent in each direction starts with
	cidLens  [2][]int
	largest  [3][2]int64
	streams  *streams
	sum      Summary
	lookedUp bool
	plain    []byte
	work     []byte // a short-header packet's copy whose header protection is removed; reused
}

// keyPhases are the 1-RTT keys of one direction: the current phase, and the previous one for
// packets reordered across an update (RFC 9001 §6.5).
type keyPhases struct {
	phase byte // the key phase bit of cur
	cur   *protection
	prev  *protection
	nextK *protection
}

// NewConn returns the state of one connection. keys may be shared between connections and
// filled while they run. onStream receives the reassembled STREAM data.
func NewConn(keys *tlskeys.Log, onStream func(StreamData)) *Conn {
	c := &Conn{keys: keys, onStream: onStream, hello: NewTracker()}
	for i := range c.largest {
		c.largest[i] = [2]int64{-1, -1}
	}
	c.streams = newStreams(func(d StreamData) {
		if c.onStream != nil {
			c.onStream(d)
		}
	})
	return c
}

// Datagram takes one UDP payload sent in direction dir. It returns the first problem of the
// datagram; the packets after it are still read where their boundaries are known.
func (c *Conn) Datagram(dir netflow.Direction, b []byte) error {
	c.sum.Counts.Datagrams++
	var first error
	note := func(err error, off int) {
		if err != nil && first == nil {
			shift(err, off)
			first = err
			if c.sum.Reason == "" {
				c.sum.Reason = err.Error()
			}
		}
	}
	off := 0
	for off < len(b) {
		p := b[off:]
		if p[0]&0x80 == 0 {
			note(c.short(dir, p), off)
			break // a short header packet runs to the end of the datagram
		}
		h, err := ParseLongHeader(p)
		if err != nil {
			c.sum.Counts.Unreadable++
			note(err, off)
			break
		}
		note(c.long(dir, p[:h.PacketLen], h), off)
		if h.PacketLen <= 0 {
			break
		}
		off += h.PacketLen
	}
	return first
}

func (c *Conn) long(dir netflow.Direction, pkt []byte, h *LongHeader) error {
	if !Supported(h.Version) {
		return nil // version negotiation, or a version this package does not know
	}
	// The source connection ID of a long header is what the peer puts in the short headers it
	// sends (RFC 9000 §7.2).
	c.addCID(dir.Reverse(), h.SCID)
	if dir == netflow.ServerToClient || c.version == 0 {
		c.version = h.Version // the server's packets carry the negotiated version
	}
	switch h.Type {
	case 0:
		if dir == netflow.ClientToServer && !c.hello.Done() {
			_, err := c.hello.ClientDatagram(pkt)
			if c.hello.Initials > c.sum.Counts.Initial {
				c.sum.Counts.Initial = c.hello.Initials
			}
			return err
		}
		return nil
	case 1:
		if dir != netflow.ClientToServer {
			return nil
		}
		c.lookup()
		if c.early == nil && c.secrets != nil && c.secrets.ClientEarlyTrafficSecret != nil {
			c.early = c.protectionFor(c.secrets.ClientEarlyTrafficSecret, pkt, h.PNOffset, h.PacketLen, true, spaceApp, dir)
		}
		pt, err := c.openLong(pkt, h, c.early, spaceApp, dir)
		if pt != nil {
			c.sum.Counts.ZeroRTT++
			return c.frames(dir, pt, true)
		}
		return err
	case 2:
		c.lookup()
		if c.hs[dir] == nil && c.secrets != nil {
			s := c.secrets.ClientHandshakeTrafficSecret
			if dir == netflow.ServerToClient {
				s = c.secrets.ServerHandshakeTrafficSecret
			}
			c.hs[dir] = c.protectionFor(s, pkt, h.PNOffset, h.PacketLen, true, spaceHandshake, dir)
		}
		pt, err := c.openLong(pkt, h, c.hs[dir], spaceHandshake, dir)
		if pt != nil {
			c.sum.Counts.Handshake++
			return c.frames(dir, pt, false)
		}
		return err
	}
	return nil
}

// lookup finds the connection's secrets once the ClientHello is whole. A key log may still grow
// (Decryption Secrets Blocks later in a capture), so a miss is tried again.
func (c *Conn) lookup() {
	if c.secrets != nil || c.keys == nil {
		return
	}
	ch, _ := c.hello.Result()
	if ch == nil {
		return
	}
	c.sum.ServerName = ch.ServerName
	if s, ok := c.keys.Lookup(ch.Random[:]); ok && s.TLS13() {
		c.secrets = &s
	}
}

// protectionFor builds the protection of a secret, trying the suites its length allows on the
// packet at hand until one opens it: the key log does not name the suite. The packet is not
// changed.
func (c *Conn) protectionFor(secret, pkt []byte, pnOff, end int, long bool, space int, dir netflow.Direction) *protection {
	if secret == nil {
		return nil
	}
	cands := suitesFor(len(secret))
	if c.suite != 0 {
		cands = []suite{c.suite}
	}
	work := make([]byte, end)
	for _, s := range cands {
		pr, err := newProtection(c.version, s, secret)
		if err != nil {
			continue
		}
		copy(work, pkt[:end])
		if _, err := c.unprotect(work, pnOff, end, long, pr, space, dir, false); err == nil {
			c.suite = s
			c.sum.Suite = s.String()
			return pr
		}
	}
	return nil
}

// unprotect removes header protection from work (a copy of the packet) and opens it with pr. It
// updates the largest packet number of the space only when commit is set.
func (c *Conn) unprotect(work []byte, pnOff, end int, long bool, pr *protection, space int, dir netflow.Direction, commit bool) ([]byte, error) {
	pnLen, trunc, ok := removeHP(work, pnOff, end, pr.hp, long)
	if !ok {
		return nil, &Error{pnOff, "packet too short for a header-protection sample"}
	}
	pn := decodePN(c.largest[space][dir], trunc, pnLen*8)
	pt, err := pr.open(c.plain[:0], work, pnOff+pnLen, end, pn)
	if err != nil {
		return nil, &Error{pnOff + pnLen, "payload does not authenticate"}
	}
	c.plain = pt
	if commit && int64(pn) > c.largest[space][dir] {
		c.largest[space][dir] = int64(pn)
	}
	return pt, nil
}

func (c *Conn) openLong(pkt []byte, h *LongHeader, pr *protection, space int, dir netflow.Direction) ([]byte, error) {
	if pr == nil {
		c.sum.Counts.Undecrypted++
		return nil, nil
	}
	work := bytes.Clone(pkt)
	pt, err := c.unprotect(work, h.PNOffset, h.PacketLen, true, pr, space, dir, true)
	if err != nil {
		c.sum.Counts.Undecrypted++
		return nil, err
	}
	return pt, nil
}

// short opens a 1-RTT packet. Its header carries no connection ID length (RFC 9000 §17.3), so
// the IDs seen in long headers and NEW_CONNECTION_ID frames are tried.
func (c *Conn) short(dir netflow.Direction, pkt []byte) error {
	c.lookup()
	ph := c.app[dir]
	if ph == nil && c.secrets != nil {
		s := c.secrets.ClientTrafficSecret0
		if dir == netflow.ServerToClient {
			s = c.secrets.ServerTrafficSecret0
		}
		for _, n := range c.cidLengths(dir, pkt) {
			if pr := c.protectionFor(s, pkt, 1+n, len(pkt), false, spaceApp, dir); pr != nil {
				ph = &keyPhases{cur: pr}
				c.app[dir] = ph
				break
			}
		}
	}
	if ph == nil {
		c.sum.Counts.Undecrypted++
		if c.secrets != nil {
			return errNoOpen()
		}
		return nil // no keys: said once, by Close
	}
	// One buffer for the copy and one (plain) for the plaintext, reused from packet to packet:
	// neither outlives the call (stream pieces held for later are copied).
	c.work = append(c.work[:0], pkt...)
	work := c.work
	for _, n := range c.cidLengths(dir, pkt) {
		pnOff := 1 + n
		copy(work, pkt)
		pnLen, trunc, ok := removeHP(work, pnOff, len(work), ph.cur.hp, false)
		if !ok {
			continue
		}
		phase := work[0] >> 2 & 1
		pn := decodePN(c.largest[spaceApp][dir], trunc, pnLen*8)
		pt, err := c.openPhase(ph, phase, work, pnOff+pnLen, pn)
		if err != nil {
			continue
		}
		c.plain = pt[:0]
		if int64(pn) > c.largest[spaceApp][dir] {
			c.largest[spaceApp][dir] = int64(pn)
		}
		c.sum.Counts.OneRTT++
		return c.frames(dir, pt, true)
	}
	c.sum.Counts.Undecrypted++
	return errNoOpen()
}

// errNoOpen is a new error each time: Datagram shifts its offset to the packet's.
func errNoOpen() error {
	return &Error{0, "1-RTT packet does not authenticate under the key log's secrets"}
}

// openPhase opens a 1-RTT payload under the keys of its key phase bit: the current keys, or the
// next ones (a key update by the sender, RFC 9001 §6.3), or the previous ones (a packet sent
// before the update and delivered after it).
func (c *Conn) openPhase(ph *keyPhases, phase byte, work []byte, hdr int, pn uint64) ([]byte, error) {
	if phase == ph.phase {
		return ph.cur.open(c.plain[:0], work, hdr, len(work), pn)
	}
	if ph.nextK == nil {
		n, err := ph.cur.next(c.version)
		if err != nil {
			return nil, err
		}
		ph.nextK = n
	}
	if pt, err := ph.nextK.open(c.plain[:0], work, hdr, len(work), pn); err == nil {
		ph.prev, ph.cur, ph.nextK = ph.cur, ph.nextK, nil
		ph.phase ^= 1
		c.sum.Counts.KeyUpdates++
		return pt, nil
	}
	if ph.prev != nil {
		return ph.prev.open(c.plain[:0], work, hdr, len(work), pn)
	}
	return nil, &Error{0, "key phase does not open"}
}

// cidLengths lists the connection ID lengths to try on a short header sent in direction dir:
// those of the known IDs it starts with first, then the other lengths seen.
func (c *Conn) cidLengths(dir netflow.Direction, pkt []byte) []int {
	var out []int
	seen := map[int]bool{}
	for _, id := range c.cids[dir] {
		if len(pkt) > len(id) && bytes.Equal(pkt[1:1+len(id)], id) && !seen[len(id)] {
			out = append(out, len(id))
			seen[len(id)] = true
		}
	}
	for _, n := range c.cidLens[dir] {
		if !seen[n] {
			out = append(out, n)
			seen[n] = true
		}
	}
	if len(out) == 0 {
		out = append(out, 0)
	}
	return out
}

// maxCIDs bounds the connection IDs remembered per direction.
const maxCIDs = 16

func (c *Conn) addCID(dir netflow.Direction, id []byte) {
	for _, k := range c.cids[dir] {
		if bytes.Equal(k, id) {
			return
		}
	}
	if len(c.cids[dir]) < maxCIDs {
		c.cids[dir] = append(c.cids[dir], bytes.Clone(id))
	}
	for _, n := range c.cidLens[dir] {
		if n == len(id) {
			return
		}
	}
	c.cidLens[dir] = append(c.cidLens[dir], len(id))
}

// frames reads the frames of an opened packet. app is set for the application space, whose
// STREAM frames carry the connection's data.
func (c *Conn) frames(dir netflow.Direction, pt []byte, app bool) error {
	c.sum.Status = StatusDecrypted
	err := ParseFrames(pt, func(f *Frame) {
		switch {
		case f.Type >= FrameStream && f.Type <= FrameStream|7 && app:
			c.streams.frame(dir, f.StreamID, f.DataOffset, f.Data, f.Fin)
		case f.Type == FrameResetStream && app:
			c.streams.reset(dir, f.StreamID)
		case f.Type == FrameNewConnectionID:
			// An ID the sender issues is one the peer will put in its short headers.
			c.addCID(dir.Reverse(), f.CID)
		case f.Type == FrameConnectionClose || f.Type == FrameConnectionClose+1:
			if c.sum.Close == "" {
				c.sum.Close = fmt.Sprintf("%s: code 0x%x %q", dir, f.ErrorCode, f.Reason)
			}
		}
	})
	if err != nil {
		c.sum.Counts.Unreadable++
	}
	return err
}

// Close ends the connection: held stream data is handed on after its holes, and the summary says
// how far the connection was opened.
func (c *Conn) Close() Summary {
	c.streams.close()
	return c.Summary()
}

// Summary returns what the connection has shown so far, as Close would report it, without ending
// its streams: the connection may go on (in the next file of a rotated capture).
func (c *Conn) Summary() Summary {
	s := c.sum
	s.Version = c.version
	s.Streams = c.streams.Stats
	ch, herr := c.hello.Result()
	switch {
	case s.Status == StatusDecrypted:
	case ch == nil:
		s.Status = StatusNoHello
		if herr != nil {
			s.Reason = herr.Error()
		} else if s.Reason == "" {
			s.Reason = "the client's Initial packets did not give a whole ClientHello"
		}
	case c.secrets == nil:
		s.Status = StatusNoKeys
		s.Reason = fmt.Sprintf("no TLS 1.3 secrets in the key log for client random %x", ch.Random[:])
	default:
		s.Status = StatusWrongKeys
		s.Reason = fmt.Sprintf("%d protected packets do not authenticate under the key log's secrets for client random %x", s.Counts.Undecrypted, ch.Random[:])
	}
	if ch != nil {
		s.ServerName = ch.ServerName
	}
	return s
}

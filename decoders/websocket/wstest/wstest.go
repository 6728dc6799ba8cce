// Package wstest helps tests of WebSocket readers: a connection wrapper that records the bytes
// of both directions as a real client sends and receives them, the split of a recorded stream
// into its HTTP handshake and the frames after it, and a frame writer for the variants a client
// library does not send (fragments, masks of one's choosing, permessage-deflate, damage).
package wstest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Recorder wraps a client's connection and keeps a copy of what it writes (Up) and reads (Down).
type Recorder struct {
	net.Conn
	mu       sync.Mutex
	up, down bytes.Buffer
}

// Write implements net.Conn.
func (r *Recorder) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	r.mu.Lock()
	r.up.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// Read implements net.Conn.
func (r *Recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.down.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// Streams returns copies of the bytes written and read so far.
func (r *Recorder) Streams() (up, down []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.up.Bytes()), bytes.Clone(r.down.Bytes())
}

// SplitHead splits a recorded direction into its HTTP head (request or status line and headers)
// and the bytes after it. status is the response's status code (0 for a request).
func SplitHead(t testing.TB, b []byte) (status int, h textproto.MIMEHeader, rest []byte) {
	t.Helper()
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		t.Fatalf("no end of HTTP head in %q", b[:min(len(b), 200)])
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b[:end+4])))
	line, err := r.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(line, "HTTP/") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			status, _ = strconv.Atoi(f[1])
		}
	}
	h, err = r.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return status, h, b[end+4:]
}

// Frame writes one frame (RFC 6455 §5.2) with the shortest length encoding; mask nil sends it
// unmasked. rsv1 marks a permessage-deflate message's first frame.
func Frame(op byte, fin, rsv1 bool, mask []byte, payload []byte) []byte {
	b0 := op & 0x0f
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	out := []byte{b0}
	var m byte
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, m|byte(n))
	case n <= 0xffff:
		out = append(out, m|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask[:4]...)
	for i, c := range payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

// Deflater compresses messages as a permessage-deflate sender does (RFC 7692 §7.2.1): each
// message is flushed with a sync flush whose trailing 00 00 FF FF is removed. With takeover the
// compressor keeps its window across messages; without, it is reset after each.
type Deflater struct {
	takeover bool
	buf      bytes.Buffer
	w        *flate.Writer
}

// NewDeflater returns a sender's compressor.
func NewDeflater(takeover bool) *Deflater {
	d := &Deflater{takeover: takeover}
	d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
	return d
}

// Message compresses one message's payload.
func (d *Deflater) Message(t testing.TB, p []byte) []byte {
	t.Helper()
	d.buf.Reset()
	if !d.takeover {
		d.w.Reset(&d.buf)
	}
	if _, err := d.w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := d.w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := d.buf.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("sync flush did not end in 00 00 FF FF")
	}
	return bytes.Clone(out[:len(out)-4])
}

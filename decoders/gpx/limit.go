package gpx

import (
	"errors"
	"io"
	"strings"
)

const (
	// maxToken bounds the bytes encoding/xml may read for one token. A KML LineString holds its
	// whole track in one text node (about 40 bytes a point), so this admits 200 000 points.
	maxToken = 8 << 20
	// maxAttrs bounds the '=' signs within one token: encoding/xml keeps every attribute of a
	// start tag, about 64 bytes each, so an attribute flood is stopped long before 64 MB.
	maxAttrs = 1 << 16
	// maxDepth bounds element nesting: encoding/xml keeps a stack entry per open element.
	maxDepth = 256
)

var (
	errTokenTooLarge = errors.New("one XML token is larger than the decoder's bound")
	errTooManyAttrs  = errors.New("one XML token has more attributes than the decoder's bound")
)

// budgetReader hands bytes to encoding/xml within the budget of the token being read; the
// parser calls reset after every token.
type budgetReader struct {
	r      io.Reader
	left   int
	eqLeft int
	total  int64
}

func newBudgetReader(r io.Reader) *budgetReader {
	return &budgetReader{r: r, left: maxToken, eqLeft: maxAttrs}
}

func (b *budgetReader) reset() { b.left, b.eqLeft = maxToken, maxAttrs }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTokenTooLarge
	}
	if b.eqLeft <= 0 {
		return 0, errTooManyAttrs
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	b.total += int64(n)
	for _, c := range p[:n] {
		if c == '=' {
			b.eqLeft--
		}
	}
	if b.eqLeft < 0 {
		return 0, errTooManyAttrs
	}
	return n, err
}

// charsetReader lets encoding/xml read the single-byte encodings GPX writers declare
// (ISO-8859-1, Windows-1252, US-ASCII) by mapping each byte to its rune; the few Windows-1252
// punctuation codes 0x80–0x9F are mapped as Latin-1 (they only occur in names and text).
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii":
		return &latin1Reader{r: input}, nil
	}
	return nil, errors.New("unsupported XML encoding " + label)
}

type latin1Reader struct {
	r    io.Reader
	buf  []byte
	obuf []byte // backing store of out: every input byte becomes at most two
	out  []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf, l.obuf = make([]byte, 4096), make([]byte, 0, 8192)
		}
		n, err := l.r.Read(l.buf)
		if n == 0 {
			return 0, err
		}
		l.out = l.obuf[:0]
		for _, c := range l.buf[:n] {
			if c < 0x80 {
				l.out = append(l.out, c)
			} else {
				l.out = append(l.out, 0xC0|c>>6, 0x80|c&0x3F)
			}
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// Package httpbody opens the bodies of HTTP messages for the searches that follow: it undoes
// Content-Encoding chains (gzip, deflate, br, zstd) into a bounded output, splits multipart and
// URL-encoded forms into their parts, and finds base64, hex and percent-encoded values worth
// decoding. Every function takes the body as bytes already de-chunked and bounds what it
// produces; damage is reported as a Note or an *Error naming the byte offset, and what was
// decoded before it stands.
//
// Sources: RFC 9110 §8.4 (Content-Encoding, the order of a list of codings), RFC 1950 (zlib),
// RFC 1951 (DEFLATE), RFC 1952 (gzip), RFC 7932 (Brotli), RFC 8878 (Zstandard), RFC 2046 §5.1
// (multipart), RFC 7578 (multipart/form-data), the WHATWG URL Standard §5
// (application/x-www-form-urlencoded), RFC 4648 (base64, base16).
package httpbody

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"droneaudit/decoders"
)

// DefaultMaxOutput is the decoded size a body is cut at when Limits leaves MaxOutput zero.
const DefaultMaxOutput = 64 << 20

// MaxCodings bounds the codings of one Content-Encoding list: real servers apply one, a list of
// many is an attack on the decoder's time.
const MaxCodings = 4

// Limits bounds the work on one body.
type Limits struct {
	// MaxOutput bounds the decoded bytes of each coding of a body (DefaultMaxOutput when 0).
	MaxOutput int64
	// Budget is the run's decompression budget (decoders.DefaultExpansionBudget when nil): every
	// decoded byte is drawn from it, so many bodies cannot together cost more than one run may.
	Budget *decoders.ExpansionBudget
}

func (l Limits) maxOutput() int64 {
	if l.MaxOutput > 0 {
		return l.MaxOutput
	}
	return DefaultMaxOutput
}

func (l Limits) budget() *decoders.ExpansionBudget {
	if l.Budget != nil {
		return l.Budget
	}
	return decoders.DefaultExpansionBudget
}

// Error is damage in a body: what was being read (a content coding such as "gzip", or
// "multipart", "form"), and at what offset of its input.
type Error struct {
	Kind string
	// Layer is, for a content coding, its position in the header's list (0 for the first named).
	Layer int
	// Offset is the offset in the input of what failed: for the outermost coding and for forms, in
	// the body as sent; for an inner coding, in the output of the coding outside it.
	Offset int64
	Code   decoders.Code
	Err    error
}

// Error implements error.
func (e *Error) Error() string {
	return e.Kind + ": offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

// Note is the error as a decoders.Note, for a sink.
func (e *Error) Note() decoders.Note {
	n := decoders.Note{Severity: decoders.Warning, Code: e.Code, Offset: e.Offset, Message: e.Error(),
		Attrs: map[string]string{"kind": e.Kind}}
	if e.Layer > 0 {
		n.Attrs["layer"] = strconv.Itoa(e.Layer)
	}
	return n
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped by an *Error whose coding decoded to more than its bound (a
// decompression bomb) or more than the run's budget allows.
var ErrTooLarge = errors.New("decoded body exceeds its bound; cut")

// ErrUnsupported is wrapped by an *Error for a coding this package does not decode
// ("compress", an unregistered name); the body is left coded from that layer on.
var ErrUnsupported = errors.New("unsupported content coding")

// Decoded is a body with its content codings undone.
type Decoded struct {
	Body []byte
	// Applied lists the codings undone, in the order they were undone (the reverse of the header).
	Applied []string
	// Complete is false when a coding failed or was cut: Body then holds what came out before.
	Complete bool
	Notes    []decoders.Note
}

// Codings splits a Content-Encoding header value into its codings, lower-cased, without
// "identity" (RFC 9110 §8.4.1: a list in the order applied).
func Codings(header string) []string {
	if strings.TrimSpace(header) == "" {
		return nil // most bodies: no Content-Encoding, and no slice made to find that out
	}
	var out []string
	for _, c := range strings.Split(header, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			out = append(out, c)
		}
	}
	return out
}

// DecodeContent undoes the codings of a Content-Encoding header value, last applied first. A
// coding that fails leaves Body as the output of the layers before it plus what the failing
// layer produced; its *Error is returned and also reported as a Note with the offset.
func DecodeContent(contentEncoding string, body []byte, lim Limits) (Decoded, error) {
	cs := Codings(contentEncoding)
	d := Decoded{Body: body, Complete: true}
	if len(cs) > MaxCodings {
		err := &Error{Kind: "content-encoding", Layer: 0, Offset: -1, Code: decoders.CodeTooLarge,
			Err: errors.New(strconv.Itoa(len(cs)) + " codings listed, more than " + strconv.Itoa(MaxCodings))}
		d.Complete = false
		d.Notes = append(d.Notes, note(err))
		return d, err
	}
	var first error
	for i := len(cs) - 1; i >= 0; i-- {
		out, err := Decode(cs[i], d.Body, lim)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Layer = i
			}
			d.Notes = append(d.Notes, note(err))
			d.Complete = false
			first = err
			if errors.Is(err, ErrUnsupported) {
				break
			}
			d.Body = out
			d.Applied = append(d.Applied, cs[i])
			break
		}
		d.Body = out
		d.Applied = append(d.Applied, cs[i])
	}
	return d, first
}

func note(err error) decoders.Note {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Note()
	}
	return decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1, Message: err.Error()}
}

// Decode undoes one content coding. On an error the returned bytes are what came out before it
// (at most the bound); for an unsupported coding they are the input unchanged.
func Decode(coding string, in []byte, lim Limits) ([]byte, error) {
	src := &countingReader{r: bytes.NewReader(in)}
	var r io.Reader
	var err error
	closeFn := func() {}
	switch coding {
	case "gzip", "x-gzip":
		var z *gzip.Reader
		if z, err = gzip.NewReader(src); err == nil {
			r = z
		}
	case "deflate":
		// RFC 9110 §8.4.1.2 says zlib; some servers send raw DEFLATE (RFC 1951) instead. A zlib
		// header is two bytes whose big-endian value is a multiple of 31 with method 8 (RFC 1950 §2.2).
		if len(in) >= 2 && in[0]&0x0f == 8 && (uint16(in[0])<<8|uint16(in[1]))%31 == 0 {
			var z io.ReadCloser
			if z, err = zlib.NewReader(src); err == nil {
				r = z
			}
		} else {
			r = flate.NewReader(src)
		}
	case "br":
		r = brotli.NewReader(src)
	case "zstd":
		var z *zstd.Decoder
		// RFC 9659 §3: a zstd content coding uses a window of at most 8 MB, which bounds the
		// memory a frame can ask for. One goroutine: this is one body among many.
		z, err = zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderMaxMemory(zstdMaxWindow))
		if err == nil {
			r, closeFn = z, z.Close
		}
	default:
		return in, &Error{Kind: "content-encoding " + coding, Offset: 0, Code: decoders.CodeUnsupported, Err: ErrUnsupported}
	}
	defer closeFn()
	if err != nil {
		return nil, &Error{Kind: "content-encoding " + coding, Offset: src.n, Code: decoders.CodeMalformed, Err: err}
	}
	out, err := readBounded(r, lim)
	if err != nil {
		code := decoders.CodeMalformed
		switch {
		case errors.Is(err, ErrTooLarge):
			code = decoders.CodeTooLarge
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			code = decoders.CodeTruncated
		}
		return out, &Error{Kind: "content-encoding " + coding, Offset: src.n, Code: code, Err: err}
	}
	return out, nil
}

// zstdMaxWindow is the window limit of the zstd content coding (RFC 9659 §3).
const zstdMaxWindow = 8 << 20

// chunk is how much output is drawn from the budget at a time.
const chunk = 32 << 10

// readBounded reads r to its end into a buffer that grows with what actually comes out, never
// beyond the bound, drawing each chunk from the budget before keeping it.
func readBounded(r io.Reader, lim Limits) ([]byte, error) {
	limit := lim.maxOutput()
	b := lim.budget()
	var out []byte
	buf := make([]byte, chunk)
	idle := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			idle = 0
			keep := int64(n)
			cut := int64(len(out))+keep > limit
			if cut {
				keep = limit - int64(len(out))
			}
			if !b.Take(keep) {
				return out, ErrTooLarge
			}
			out = append(out, buf[:keep]...)
			if cut {
				return out, ErrTooLarge
			}
		} else if err == nil {
			if idle++; idle > 100 {
				return out, io.ErrNoProgress
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// countingReader counts the bytes the decompressor took from the body, which is the offset an
// error is reported at. It is a ByteReader, so compress/flate reads from it byte by byte and
// does not read ahead through a bufio.Reader of its own.
type countingReader struct {
	r *bytes.Reader
	n int64
}

var _ io.ByteReader = (*countingReader)(nil)

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

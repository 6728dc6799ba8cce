// Package objects names, hashes, saves and reads the objects found in network bodies (an upload
// to a cloud, a download from it): a DJI flight record, a picture, an archive, a document. It
// finds the positions a picture carries in its EXIF GPS and DJI XMP metadata, and runs the file
// decoders of the audit over a body held in memory, so that a flight record uploaded to a cloud
// is decoded exactly like one on disk.
package objects

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"

	"droneaudit/decoders"
	"droneaudit/decoders/djilog"
	"droneaudit/decoders/jsonpos"
)

// Kind is what a body is, by its content.
type Kind string

// The kinds Identify knows.
const (
	KindEmpty        Kind = "empty"
	KindFlightRecord Kind = "dji-flight-record"
	KindJPEG         Kind = "jpeg"
	KindPNG          Kind = "png"
	KindZIP          Kind = "zip"
	KindGzip         Kind = "gzip"
	KindZstd         Kind = "zstd"
	KindJSON         Kind = "json"
	KindProtobuf     Kind = "protobuf-like"
	KindText         Kind = "text"
	KindBinary       Kind = "binary"
)

// Ext is the file name extension an extracted object of the kind gets.
func (k Kind) Ext() string {
	switch k {
	case KindFlightRecord:
		return ".txt" // DJI names its flight records DJIFlightRecord_….txt
	case KindJPEG:
		return ".jpg"
	case KindPNG:
		return ".png"
	case KindZIP:
		return ".zip"
	case KindGzip:
		return ".gz"
	case KindZstd:
		return ".zst"
	case KindJSON:
		return ".json"
	case KindProtobuf:
		return ".pb"
	case KindText:
		return ".txt"
	}
	return ".bin"
}

// headLen is how much of a body Identify looks at beyond the magic numbers.
const headLen = decoders.SniffLen

// Identify names a body by its content: magic numbers first (ITU-T T.81 for JPEG, the PNG
// signature of ISO/IEC 15948 §5.2, the ZIP local header of APPNOTE 4.3.7, RFC 1952 gzip,
// RFC 8878 zstd), then the flight-record decoder's own sniffing, then the syntax of JSON,
// protobuf's wire format and text over the first 64 KiB.
func Identify(body []byte) Kind {
	head := body[:min(len(body), headLen)]
	switch {
	case len(body) == 0:
		return KindEmpty
	case bytes.HasPrefix(body, []byte{0xFF, 0xD8, 0xFF}):
		return KindJPEG
	case bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")):
		return KindPNG
	case bytes.HasPrefix(body, []byte("PK\x03\x04")), bytes.HasPrefix(body, []byte("PK\x05\x06")):
		return KindZIP
	case bytes.HasPrefix(body, []byte{0x1f, 0x8b, 0x08}):
		return KindGzip
	case bytes.HasPrefix(body, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return KindZstd
	case (djilog.Decoder{}).Sniff(head):
		return KindFlightRecord
	case looksJSON(head, len(head) == len(body)):
		return KindJSON
	case looksText(head):
		return KindText
	case looksProtobuf(head, len(head) == len(body)):
		return KindProtobuf
	}
	return KindBinary
}

// looksJSON reads the head's JSON tokens: a syntax error before the head ends means it is not
// JSON; a head cut inside a value still is. A whole body must be one value.
func looksJSON(head []byte, whole bool) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return false
	}
	if whole {
		return jsonpos.Valid(t)
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	for {
		_, err := dec.Token()
		if err == nil {
			continue
		}
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	}
}

// looksText: valid UTF-8 (a cut last rune allowed) with at most one control character in 50.
func looksText(head []byte) bool {
	ctl, n := 0, 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				break
			}
			return false
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			ctl++
		}
		n++
		i += size
	}
	return n > 0 && ctl*50 <= n
}

// looksProtobuf walks protobuf wire-format fields (protobuf.dev "Encoding": a varint key of
// field number and wire type 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32) over the head:
// it is protobuf-like when at least two fields parse back to back to the head's end (or, for a
// head cut from a longer body, up to a field that runs past it).
func looksProtobuf(b []byte, whole bool) bool {
	fields := 0
	for i := 0; i < len(b); {
		key, n := uvarint(b[i:])
		if n <= 0 || key>>3 == 0 || key>>3 > 1<<29-1 {
			return false
		}
		i += n
		var size uint64
		switch key & 7 {
		case 0:
			_, m := uvarint(b[i:])
			if m <= 0 {
				return !whole && i+10 > len(b) && fields >= 2
			}
			size = uint64(m)
		case 1:
			size = 8
		case 2:
			l, m := uvarint(b[i:])
			if m <= 0 {
				return !whole && i+10 > len(b) && fields >= 2
			}
			i += m
			size = l
		case 5:
			size = 4
		default:
			return false
		}
		if size > uint64(len(b)-i) {
			return !whole && fields >= 2
		}
		i += int(size)
		fields++
	}
	return fields >= 2
}

// uvarint reads a base-128 varint of at most 10 bytes; n is 0 when b ends inside it and -1 when
// it is longer than 10 bytes.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	if len(b) >= 10 {
		return 0, -1
	}
	return 0, 0
}

// Object is a body's identity: what it is and its SHA-256.
type Object struct {
	Kind   Kind
	SHA256 string // lower-case hex
	Size   int64
}

// Describe identifies and hashes a body.
func Describe(body []byte) Object {
	sum := sha256.Sum256(body)
	return Object{Kind: Identify(body), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body))}
}

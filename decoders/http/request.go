// Package http reads the head of clear-text HTTP/1.x requests (RFC 9112 §3): the method, the
// request target and the Host header name a destination and tell what was asked of it even when
// no DNS answer or TLS name was seen.
package http

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxHead bounds the bytes of a request head that are buffered; servers commonly refuse heads
// larger than 8–16 KB, so a longer one is treated as not HTTP.
const MaxHead = 16 << 10

// Request is the decoded head of one request.
type Request struct {
	Method      string
	Target      string // request target as sent: origin form "/path?q" or absolute form
	Version     string // "HTTP/1.1"
	Host        string // Host header, lower case, without the port
	UserAgent   string
	ContentType string
	// ContentLength is the declared body length, -1 when absent or invalid.
	ContentLength int64
}

// ErrNotHTTP means the bytes do not start with an HTTP/1.x request line.
var ErrNotHTTP = errors.New("http: not an HTTP/1.x request")

var methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// LooksLike reports whether a client's first bytes start with a known request method.
func LooksLike(b []byte) bool {
	for _, m := range methods {
		n := min(len(b), len(m))
		if n >= 4 && bytes.Equal(b[:n], []byte(m[:n])) {
			return true
		}
	}
	return false
}

// ParseHead decodes a request head from the start of b. complete is false when the blank line
// that ends the head has not arrived yet (and b is still under MaxHead); the caller should then
// call again with more bytes. used is the length of the head including its blank line.
func ParseHead(b []byte) (r *Request, used int, complete bool, err error) {
	if !LooksLike(b) {
		return nil, 0, false, ErrNotHTTP
	}
	end, used, err := headEnd(b)
	if end < 0 || err != nil {
		return nil, 0, false, err
	}
	// One copy of the head holds every field; its lines are walked in place as headLines
	// would split them (a CR that no LF follows stays in its line).
	h := string(b[:end])
	line, h, more := nextHeadLine(h)
	method, rest, ok1 := strings.Cut(line, " ")
	target, version, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || strings.IndexByte(version, ' ') >= 0 || !strings.HasPrefix(version, "HTTP/1.") {
		return nil, 0, false, fmt.Errorf("http: offset 0: bad request line %q", truncate(line))
	}
	r = &Request{Method: method, Target: target, Version: version, ContentLength: -1}
	for more {
		var l string
		l, h, more = nextHeadLine(h)
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch fieldName(strings.TrimSpace(k), requestFields) {
		case "host":
			r.Host = hostOnly(v)
		case "user-agent":
			r.UserAgent = v
		case "content-type":
			r.ContentType = v
		case "content-length":
			if n, ok := scanDecimal(v); ok && n >= 0 {
				r.ContentLength = n
			}
		}
	}
	if r.Host == "" && strings.Contains(r.Target, "://") {
		// Absolute form (a request to a proxy) names the host in the target.
		rest := r.Target[strings.Index(r.Target, "://")+3:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		r.Host = hostOnly(rest)
	}
	return r, used, true, nil
}

// nextHeadLine returns the first line of h (without its LF, and without a CR just before it)
// and what follows; more is false when line was the last one.
func nextHeadLine(h string) (line, rest string, more bool) {
	i := strings.IndexByte(h, '\n')
	if i < 0 {
		return h, "", false
	}
	line, rest = h[:i], h[i+1:]
	if strings.HasSuffix(line, "\r") {
		line = line[:len(line)-1]
	}
	return line, rest, true
}

// scanDecimal reads a leading integer as fmt.Sscanf(v, "%d", &n) does (for a v with no leading
// space): an optional sign, then decimal digits up to the first other byte; ok is false when no
// digit follows the sign or the value overflows an int64. It makes no scan state and no copy.
func scanDecimal(v string) (n int64, ok bool) {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	d := i
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == d {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	return n, err == nil
}

// hostOnly strips a port and lower-cases a Host value; IPv6 literals keep their brackets off.
func hostOnly(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

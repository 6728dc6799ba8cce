// Package http reads the head of clear-text HTTP/1.x requests (RFC 9112 §3): the method, the
// request target and the Host header name a destination and tell what was asked of it even when
// no DNS answer or TLS name was seen.
package http

import (
	"bytes"
	"errors"
	"fmt"
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
	lines, used, complete, err := splitHead(b)
	if !complete || err != nil {
		return nil, 0, false, err
	}
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return nil, 0, false, fmt.Errorf("http: offset 0: bad request line %q", truncate(lines[0]))
	}
	r = &Request{Method: parts[0], Target: parts[1], Version: parts[2], ContentLength: -1}
	for _, l := range lines[1:] {
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
			var n int64
			if _, err := fmt.Sscanf(v, "%d", &n); err == nil && n >= 0 {
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

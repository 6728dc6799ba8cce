package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NSS key log format: one secret per line, "<label> <client_random hex> <secret hex>", '#' lines
// are comments. Sources: RFC 9850, The SSLKEYLOGFILE Format for TLS, §2
// (https://www.rfc-editor.org/rfc/rfc9850), and the NSS Key Log Format page
// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/index.html).
// The RSA label carries the first 8 bytes of the encrypted pre-master secret instead of the
// client random, hence the shorter second field it may have.
const (
	maxKeyLogLine  = 1024     // the longest legitimate line (two 64-byte values) is under 300
	maxKeyLogChunk = 1 << 20  // read at most this much per poll, so one poll stays cheap
	maxLabel       = 64       //
	maxKeyLogHold  = 64 << 10 // bytes of an unfinished line kept across polls
)

// ValidKeyLogLine reports whether line (without its newline) is a key log entry worth keeping:
// an upper-case label and two even-length hex fields.
func ValidKeyLogLine(line []byte) bool {
	f := bytes.Fields(line)
	if len(f) != 3 || len(line) > maxKeyLogLine {
		return false
	}
	if len(f[0]) == 0 || len(f[0]) > maxLabel {
		return false
	}
	for _, c := range f[0] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return isHex(f[1], 16, 64) && isHex(f[2], 2, 256)
}

func isHex(b []byte, minLen, maxLen int) bool {
	if len(b) < minLen || len(b) > maxLen || len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// KeyLogSplitter turns a growing key log into whole, valid lines. Bytes after the last newline
// are held until the rest of the line arrives; the writer of the key log (a browser, a proxy, an
// eBPF tool) may be in the middle of a line when we read.
type KeyLogSplitter struct {
	hold     []byte
	skipping bool // inside an over-long line: drop until its newline
	// Rejected counts lines that were not key log entries (comments and blank lines excluded).
	Rejected int
}

// Feed adds p and returns the complete valid lines it finished, each with its newline.
func (s *KeyLogSplitter) Feed(p []byte) []byte {
	var out []byte
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if s.skipping {
				return out
			}
			if len(s.hold)+len(p) > maxKeyLogHold {
				// No key log line is this long: drop it rather than grow without bound.
				s.hold, s.skipping = s.hold[:0], true
				s.Rejected++
				return out
			}
			s.hold = append(s.hold, p...)
			return out
		}
		seg := p[:i]
		p = p[i+1:]
		if s.skipping {
			s.skipping = false
			continue
		}
		line := seg
		if len(s.hold) > 0 {
			s.hold = append(s.hold, seg...)
			line = s.hold
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(bytes.TrimSpace(line)) == 0 || line[0] == '#':
		case ValidKeyLogLine(line):
			// Re-joined with single spaces: the form every key log reader accepts.
			out = append(out, bytes.Join(bytes.Fields(line), []byte(" "))...)
			out = append(out, '\n')
		default:
			s.Rejected++
		}
		s.hold = s.hold[:0]
	}
	return out
}

// KeyLogTailer follows a key log file that another program is writing during the capture. The
// file may not exist yet, and it may be truncated and rewritten; both are handled.
type KeyLogTailer struct {
	Path  string
	off   int64
	split KeyLogSplitter
	buf   []byte
}

// NewKeyLogTailer starts following path from its beginning.
func NewKeyLogTailer(path string) *KeyLogTailer { return &KeyLogTailer{Path: path} }

// Rejected returns how many lines were not key log entries.
func (t *KeyLogTailer) Rejected() int { return t.split.Rejected }

// Poll returns the valid lines appended since the last call (possibly none).
func (t *KeyLogTailer) Poll() ([]byte, error) {
	f, err := os.Open(t.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // not written yet
	}
	if err != nil {
		return nil, fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key log: %w", err)
	}
	if st.Size() < t.off {
		// Truncated and rewritten: start again, dropping any half line of the old content.
		t.off = 0
		t.split = KeyLogSplitter{Rejected: t.split.Rejected}
	}
	if t.buf == nil {
		t.buf = make([]byte, 64<<10)
	}
	var out []byte
	for read := 0; read < maxKeyLogChunk; {
		n, err := f.ReadAt(t.buf, t.off)
		if n > 0 {
			t.off += int64(n)
			read += n
			out = append(out, t.split.Feed(t.buf[:n])...)
		}
		if err == io.EOF || n == 0 {
			break
		}
		if err != nil {
			return out, fmt.Errorf("key log %s at offset %d: %w", t.Path, t.off, err)
		}
	}
	return out, nil
}

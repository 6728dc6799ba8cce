// Package tlskeys holds the TLS session secrets a lab hands droneaudit: NSS key logs ("SSLKEYLOGFILE",
// RFC 9850) read from a file, and the same text carried in pcapng Decryption Secrets Blocks
// (secrets type 0x544c534b). Secrets are matched to sessions by the ClientHello random. A Log is
// safe for concurrent use: the capture reader adds the secrets of Decryption Secrets Blocks while
// the flow shards look sessions up.
package tlskeys

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
)

// Label names one kind of key log line (RFC 9850 §3; NSS key log format).
type Label uint8

// The labels a key log may carry.
const (
	LabelUnknown Label = iota
	// ClientRandom carries a TLS 1.0–1.2 master secret (48 bytes).
	ClientRandom
	// RSA carries a pre-master secret keyed by the first 8 bytes of the encrypted pre-master
	// secret rather than by the client random (legacy; kept but not used to decrypt).
	RSA
	ClientEarlyTrafficSecret
	ClientHandshakeTrafficSecret
	ServerHandshakeTrafficSecret
	ClientTrafficSecret0
	ServerTrafficSecret0
	EarlyExporterSecret
	ExporterSecret
	numLabels
)

var labelNames = [numLabels]string{
	LabelUnknown:                 "",
	ClientRandom:                 "CLIENT_RANDOM",
	RSA:                          "RSA",
	ClientEarlyTrafficSecret:     "CLIENT_EARLY_TRAFFIC_SECRET",
	ClientHandshakeTrafficSecret: "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	ServerHandshakeTrafficSecret: "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	ClientTrafficSecret0:         "CLIENT_TRAFFIC_SECRET_0",
	ServerTrafficSecret0:         "SERVER_TRAFFIC_SECRET_0",
	EarlyExporterSecret:          "EARLY_EXPORTER_SECRET",
	ExporterSecret:               "EXPORTER_SECRET",
}

// String returns the label as written in a key log.
func (l Label) String() string {
	if l < numLabels && l != LabelUnknown {
		return labelNames[l]
	}
	return "unknown"
}

// ParseLabel returns the Label of a key log label, LabelUnknown if it is not one.
func ParseLabel(s []byte) Label {
	for i := Label(1); i < numLabels; i++ {
		if string(s) == labelNames[i] {
			return i
		}
	}
	return LabelUnknown
}

// Secrets are what a key log says about one session (one client random). A field is nil when the
// log has no line for it.
type Secrets struct {
	Master                       []byte // CLIENT_RANDOM: TLS ≤ 1.2 master secret
	ClientEarlyTrafficSecret     []byte
	ClientHandshakeTrafficSecret []byte
	ServerHandshakeTrafficSecret []byte
	ClientTrafficSecret0         []byte
	ServerTrafficSecret0         []byte
	EarlyExporterSecret          []byte
	ExporterSecret               []byte
}

func (s *Secrets) field(l Label) *[]byte {
	switch l {
	case ClientRandom:
		return &s.Master
	case ClientEarlyTrafficSecret:
		return &s.ClientEarlyTrafficSecret
	case ClientHandshakeTrafficSecret:
		return &s.ClientHandshakeTrafficSecret
	case ServerHandshakeTrafficSecret:
		return &s.ServerHandshakeTrafficSecret
	case ClientTrafficSecret0:
		return &s.ClientTrafficSecret0
	case ServerTrafficSecret0:
		return &s.ServerTrafficSecret0
	case EarlyExporterSecret:
		return &s.EarlyExporterSecret
	case ExporterSecret:
		return &s.ExporterSecret
	}
	return nil
}

// TLS13 reports whether the secrets include TLS 1.3 traffic secrets.
func (s *Secrets) TLS13() bool {
	return s.ClientHandshakeTrafficSecret != nil || s.ServerHandshakeTrafficSecret != nil ||
		s.ClientTrafficSecret0 != nil || s.ServerTrafficSecret0 != nil
}

// Bounds. A key log line is under 300 bytes (two 64-byte values in hex); secrets are at most 48
// bytes (SHA-384). DefaultMaxSessions bounds the memory of a Log (about 400 bytes a session with
// all TLS 1.3 secrets): a million sessions is more than a lab capture holds.
const (
	MaxSecretLen       = 64
	DefaultMaxSessions = 1 << 20
	// maxRemembered bounds the TLS 1.2 resumption cache (session IDs and tickets).
	maxRemembered = 1 << 16
	// maxTicket bounds a remembered session ticket.
	maxTicket = 4096
)

// Stats counts what the key log inputs gave.
type Stats struct {
	Lines      int // key log entries read (comments and blank lines excluded)
	Added      int // secrets stored (a repeated identical line is not counted again)
	Rejected   int // lines that are not key log entries (wrong shape, bad hex, over-long)
	Unknown    int // well-formed lines with a label this package does not know
	Conflicts  int // a second, different value for a secret already known (the first is kept)
	Dropped    int // secrets not stored because the Log is full
	Ignored    int // Decryption Secrets Blocks of a type other than TLS key log
	RSAEntries int // RSA lines (pre-master secrets), kept but not used for decryption
}

func (s *Stats) add(o Stats) {
	s.Lines += o.Lines
	s.Added += o.Added
	s.Rejected += o.Rejected
	s.Unknown += o.Unknown
	s.Conflicts += o.Conflicts
	s.Dropped += o.Dropped
	s.Ignored += o.Ignored
	s.RSAEntries += o.RSAEntries
}

// Log is a store of session secrets keyed by client random. The zero value is not usable; call
// NewLog.
type Log struct {
	mu       sync.RWMutex
	sessions map[[32]byte]*Secrets
	rsa      map[[8]byte][]byte
	// remembered maps a TLS 1.2 session ID or session ticket to the master secret of the
	// session that issued it, so that a resumed session (which logs nothing new in some TLS
	// stacks, Go's among them) can be decrypted.
	remembered map[string][]byte
	stats      Stats
	// MaxSessions bounds the number of client randoms kept; set before adding.
	MaxSessions int
}

// NewLog returns an empty Log.
func NewLog() *Log {
	return &Log{sessions: map[[32]byte]*Secrets{}, rsa: map[[8]byte][]byte{}, remembered: map[string][]byte{}, MaxSessions: DefaultMaxSessions}
}

// Stats returns the counts of everything added so far.
func (l *Log) Stats() Stats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.stats
}

// Len returns the number of sessions (client randoms) with secrets.
func (l *Log) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.sessions)
}

// Lookup returns a copy of the secrets logged for a client random.
func (l *Log) Lookup(clientRandom []byte) (Secrets, bool) {
	if len(clientRandom) != 32 {
		return Secrets{}, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	s, ok := l.sessions[[32]byte(clientRandom)]
	if !ok {
		return Secrets{}, false
	}
	return *s, true
}

// RSAPreMaster returns the pre-master secret of an RSA line, keyed by the first 8 bytes of the
// encrypted pre-master secret.
func (l *Log) RSAPreMaster(encPrefix []byte) ([]byte, bool) {
	if len(encPrefix) < 8 {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	v, ok := l.rsa[[8]byte(encPrefix[:8])]
	return v, ok
}

// Remember stores the master secret of a TLS 1.2 session under a session ID or a session ticket
// it issued. The cache is bounded; when full, nothing more is remembered.
func (l *Log) Remember(kind string, id, master []byte) {
	if len(id) == 0 || len(id) > maxTicket || len(master) == 0 || len(master) > MaxSecretLen {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.remembered) >= maxRemembered {
		return
	}
	l.remembered[kind+string(id)] = bytes.Clone(master)
}

// Recall returns the master secret remembered for a session ID or ticket.
func (l *Log) Recall(kind string, id []byte) ([]byte, bool) {
	if len(id) == 0 {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	v, ok := l.remembered[kind+string(id)]
	return v, ok
}

// AddText adds the entries of key log text. Lines are bounded and checked one by one; a bad line
// is counted and skipped, never fatal.
func (l *Log) AddText(b []byte) Stats {
	var sp evidence.KeyLogSplitter
	lines := sp.Feed(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		lines = append(lines, sp.Feed([]byte{'\n'})...)
	}
	st := l.addLines(lines)
	st.Rejected += sp.Rejected
	l.count(st)
	return st
}

// Add reads key log text from r to its end.
func (l *Log) Add(r io.Reader) (Stats, error) {
	var sp evidence.KeyLogSplitter
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	buf := make([]byte, 64<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			st.add(l.addLines(sp.Feed(buf[:n])))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			st.Rejected += sp.Rejected
			l.count(st)
			return st, err
		}
	}
	st.add(l.addLines(sp.Feed([]byte{'\n'})))
	st.Rejected += sp.Rejected
	l.count(st)
	return st, nil
}

// AddFile reads a key log file.
func (l *Log) AddFile(path string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	st, err := l.Add(f)
	if err != nil {
		return st, fmt.Errorf("key log %s: %w", path, err)
	}
	return st, nil
}

// ErrNotKeyLog is returned by AddSecret for a Decryption Secrets Block of another type (SSH,
// WireGuard, ZigBee keys): it is counted and ignored.
var ErrNotKeyLog = errors.New("tlskeys: decryption secrets block is not a TLS key log")

// AddSecret adds a pcapng Decryption Secrets Block, as capture.Reader reports them through
// OnSecrets. Blocks of other secret types are counted as ignored.
func (l *Log) AddSecret(s capture.Secret) (Stats, error) {
	if s.Type != capture.SecretsTLSKeyLog {
		st := Stats{Ignored: 1}
		l.count(st)
		return st, fmt.Errorf("%w (type 0x%08x)", ErrNotKeyLog, s.Type)
	}
	return l.AddText(s.Data), nil
}

func (l *Log) count(st Stats) {
	l.mu.Lock()
	l.stats.add(st)
	l.mu.Unlock()
}

// addLines stores the lines a KeyLogSplitter returned: valid shape, single spaces, newline
// terminated.
func (l *Log) addLines(lines []byte) Stats {
	var st Stats
	if len(lines) == 0 {
		return st
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			i = len(lines)
		}
		line := lines[:i]
		lines = lines[min(i+1, len(lines)):]
		st.Lines++
		l.addLine(line, &st)
	}
	return st
}

func (l *Log) addLine(line []byte, st *Stats) {
	f := bytes.Fields(line)
	if len(f) != 3 {
		st.Rejected++
		return
	}
	label := ParseLabel(f[0])
	if label == LabelUnknown {
		st.Unknown++
		return
	}
	id := make([]byte, hex.DecodedLen(len(f[1])))
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(id, f[1]); err != nil {
		st.Rejected++
		return
	}
	if _, err := hex.Decode(secret, f[2]); err != nil || len(secret) > MaxSecretLen || len(secret) == 0 {
		st.Rejected++
		return
	}
	if label == RSA {
		if len(id) != 8 {
			st.Rejected++
			return
		}
		st.RSAEntries++
		if _, ok := l.rsa[[8]byte(id)]; !ok && len(l.rsa) < l.MaxSessions {
			l.rsa[[8]byte(id)] = secret
		}
		return
	}
	if len(id) != 32 {
		st.Rejected++
		return
	}
	s, ok := l.sessions[[32]byte(id)]
	if !ok {
		if len(l.sessions) >= l.MaxSessions {
			st.Dropped++
			return
		}
		s = &Secrets{}
		l.sessions[[32]byte(id)] = s
	}
	p := s.field(label)
	switch {
	case *p == nil:
		*p = secret
		st.Added++
	case !bytes.Equal(*p, secret):
		st.Conflicts++
	}
}

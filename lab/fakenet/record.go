package fakenet

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// LogName is the fake internet's log in the session folder.
const LogName = "fakenet.ndjson"

// Record is one line of the log: one TCP connection, one UDP client and port, or one DNS
// question the lab's resolver answered.
type Record struct {
	Time      time.Time `json:"time"`
	Client    string    `json:"client"`   // ip:port of the lab device (ip for DNS)
	Dst       string    `json:"orig_dst"` // ip:port the client wanted, before the redirect
	Transport string    `json:"transport"`
	// Name is what the client asked for by name: the DNS question, TLS SNI or HTTP Host.
	Name     string   `json:"name,omitempty"`
	Protocol string   `json:"protocol"`
	QType    string   `json:"qtype,omitempty"` // DNS records: A, AAAA, …
	First    *Summary `json:"first,omitempty"`
	// Intercepted is set when the lab terminated TLS with its own CA; Inner is then what the
	// client sent inside the TLS session.
	Intercepted bool     `json:"intercepted,omitempty"`
	Inner       *Summary `json:"inner,omitempty"`
	// Pinned is set when the client refused the lab's certificate (a certificate alert, or a
	// close, during the handshake): it pins its server's key or CA, or it does not use the
	// store the lab CA was installed in. Alert is the alert it sent.
	Pinned bool   `json:"pinned"`
	Alert  string `json:"alert,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Log appends records to an NDJSON file, one line each, safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	f   *os.File
	enc *json.Encoder
	n   int
}

// CreateLog creates (or appends to) the log at path with mode 0600.
func CreateLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &Log{f: f, enc: json.NewEncoder(f)}, nil
}

// Write appends one record; the time is set when zero.
func (l *Log) Write(r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	return l.enc.Encode(r)
}

// Count returns how many records were written.
func (l *Log) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Close syncs and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.f.Sync(); err != nil {
		l.f.Close()
		return err
	}
	return l.f.Close()
}

// Package tlslayer opens TLS inside the engine: it adapts the passive decryption of decoders/tls
// (Session) and the secrets of decoders/tlskeys (key log files and the capture's own pcapng
// Decryption Secrets Blocks) to the engine's layer contract (decoders.Unwrapper), so that the
// plaintext of each decrypted session is decoded and observed as an inner flow, exactly as clear
// traffic. A session that cannot be decrypted hands nothing on and is reported with a typed note
// (decoders.CodeTLSNoKeys, …) naming the flow and the reason.
package tlslayer

import (
	"fmt"
	"sync/atomic"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/tls"
	"droneaudit/decoders/tlskeys"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// Name is the layer's name: inner flows get the uid "<outer>-tls".
const Name = "tls"

// Protocols recognise, on TLS ports only, a connection whose first bytes are a TLS record other
// than a handshake: one the capture joined mid-stream. The layer opens it too, so that it is
// reported (decoders.CodeTLSNoHandshake) rather than passed over in silence. Connections that
// start with their handshake are recognised by the inventory's own TLS protocol.
var Protocols = []decoders.Protocol{
	{Name: "tls", Transport: netflow.TCP, Ports: []uint16{443, 853, 8443, 8883}, PortRequired: true, Sniff: tls.LooksLikeRecord},
}

// Layer is a decoders.Unwrapper and decoders.SecretsTaker for TLS. One Layer serves a whole run:
// its key log is shared by every flow shard (tlskeys.Log is safe for concurrent use).
type Layer struct {
	keys *tlskeys.Log
	// OnSession, if set, is told the summary of every session when it ends, with its flow. It is
	// called from the flow shards, concurrently.
	OnSession func(n geo.Network, s tls.Summary)
	dsbs      atomic.Int64
}

// New returns a Layer that takes its secrets from keys (nil: only the Decryption Secrets Blocks
// of the captures).
func New(keys *tlskeys.Log) *Layer {
	if keys == nil {
		keys = tlskeys.NewLog()
	}
	return &Layer{keys: keys}
}

// FromFiles returns a Layer with the secrets of the named NSS key log files.
func FromFiles(paths []string) (*Layer, error) {
	keys := tlskeys.NewLog()
	for _, p := range paths {
		if _, err := keys.AddFile(p); err != nil {
			return nil, fmt.Errorf("key log %s: %w", p, err)
		}
	}
	return New(keys), nil
}

// HasSecrets implements decoders.SecretHolder.
func (l *Layer) HasSecrets() bool { return l.keys.Len() > 0 }

// NotOpened implements decoders.SecretHolder: the flow is counted as a session without keys, as
// an opened one would be, without a note (there is no key material at all).
func (l *Layer) NotOpened(sink decoders.Sink) {
	sink.Count("tls_sessions", 1)
	sink.Count("tls_sessions_"+tls.StatusNoKeys.String(), 1)
}

// Keys returns the layer's key log.
func (l *Layer) Keys() *tlskeys.Log { return l.keys }

// Name implements decoders.Unwrapper.
func (l *Layer) Name() string { return Name }

// Unwraps implements decoders.Unwrapper: flows the engine recognised as TLS.
func (l *Layer) Unwraps(app string) bool { return app == "tls" }

// AddSecrets implements decoders.SecretsTaker: a Decryption Secrets Block of a capture. The
// engine hands it over once the shards have handled every packet before the block, and before
// they see any packet after it: keys written ahead of a session (where capture tools put them)
// open it, keys written after it never do, whatever the timing; such a session is reported as
// having its keys late. Blocks of other secret types are ignored.
func (l *Layer) AddSecrets(typ uint32, data []byte) {
	l.dsbs.Add(1)
	l.keys.AddSecret(capture.Secret{Type: typ, Data: data})
}

// NewStream implements decoders.Unwrapper.
func (l *Layer) NewStream(in decoders.Input, sink decoders.Sink) decoders.LayerStream {
	s := &stream{l: l, in: in, sink: sink}
	s.sess = tls.NewSession(tls.Config{Keys: l.keys, OnData: s.data, OnEvent: s.event})
	return s
}

// stream is the layer of one flow: of one input, or of several when the flow continues into the
// next capture of the run (decoders.Continuer).
type stream struct {
	l    *Layer
	in   decoders.Input
	sink decoders.Sink
	net  geo.Network
	sess *tls.Session
	emit func(netflow.Direction, []byte)
	// lost marks a direction whose next plaintext follows lost bytes.
	lost [2]bool
}

// SetFlow implements decoders.FlowStream.
func (s *stream) SetFlow(n geo.Network) { s.net = n }

// Feed implements decoders.LayerStream.
func (s *stream) Feed(dir netflow.Direction, b []byte, gap bool, emit func(netflow.Direction, []byte)) {
	s.emit = emit
	if gap {
		s.sess.Gap(dir, 0)
	}
	s.sess.Feed(dir, b)
	s.emit = nil
}

func (s *stream) data(d *tls.Data) {
	if s.emit == nil {
		return
	}
	if s.lost[d.Dir&1] {
		s.lost[d.Dir&1] = false
		s.emit(d.Dir, nil)
	}
	s.emit(d.Dir, d.Bytes)
}

// event marks a direction whose records were lost, so that the plaintext after them reaches the
// inner flow's decoders as following a gap: they drop a message cut by the loss.
func (s *stream) event(e tls.Event) {
	switch e.Kind {
	case tls.EventGap, tls.EventSkipped, tls.EventTruncated:
		s.lost[e.Dir&1] = true
	}
}

// EndInput implements decoders.Continuer: the input ends while the connection may go on in
// the next capture. The session as it stands becomes the input's note (a record cut at the end of
// the file is not taken as lost: the next file may carry the rest), and the session's state
// waits for the flow's next bytes.
func (s *stream) EndInput() {
	if s.sink != nil {
		s.report(s.sess.Summary())
	}
	s.sink = nil
}

// Rebind implements decoders.Continuer: the connection continues in another input, whose
// sink gets what the session reports from now on. The session is counted there again, as seen
// in that input too.
func (s *stream) Rebind(in decoders.Input, sink decoders.Sink) { s.in, s.sink = in, sink }

// Close implements decoders.LayerStream: the session's outcome becomes a note on the input the
// stream reports on (none when that input has ended: EndInput reported on it).
func (s *stream) Close() {
	sum := s.sess.Close()
	if s.l.OnSession != nil {
		s.l.OnSession(s.net, sum)
	}
	if s.sink != nil {
		s.report(sum)
	}
}

// report notes a session's outcome on the stream's input.
func (s *stream) report(sum tls.Summary) {
	s.sink.Count("tls_sessions", 1)
	code, sev := decoders.Code(""), decoders.Warning
	switch sum.Status {
	case tls.StatusDecrypted:
		s.sink.Count("tls_sessions_decrypted", 1)
		return
	case tls.StatusIncomplete:
		return // nothing protected was seen: nothing to decrypt
	case tls.StatusPartial:
		s.sink.Count("tls_sessions_decrypted", 1)
		code = decoders.CodeTLSPartial
	case tls.StatusNoKeys:
		code = decoders.CodeTLSNoKeys
		if s.l.keys.Len() == 0 {
			// No key material at all (no key log given, no Decryption Secrets Block read so
			// far): that no session is decrypted is expected; it is counted, not noted each time.
			s.sink.Count("tls_sessions_"+sum.Status.String(), 1)
			return
		}
		if len(sum.ClientRandom) > 0 {
			if _, ok := s.l.keys.Lookup(sum.ClientRandom); ok {
				sum.Reason = "its secrets came only after the session in the capture (a Decryption Secrets Block written late); pass the key log with --keylog"
			}
		}
	case tls.StatusWrongKeys:
		code = decoders.CodeTLSWrongKeys
	case tls.StatusUnsupported:
		code = decoders.CodeTLSUnsupported
	case tls.StatusNoHandshake:
		code = decoders.CodeTLSNoHandshake
	case tls.StatusNotTLS:
		code, sev = decoders.CodeTLSNotTLS, decoders.Info
	}
	s.sink.Count("tls_sessions_"+sum.Status.String(), 1)
	msg := fmt.Sprintf("TLS session to %s not decrypted (%s): %s", s.server(sum), sum.Status, sum.Reason)
	if sum.Status == tls.StatusPartial {
		msg = fmt.Sprintf("TLS session to %s decrypted in part (%d and %d bytes lost): %s", s.server(sum), sum.Skipped[0], sum.Skipped[1], sum.Reason)
	}
	attrs := map[string]string{"flow": s.net.FlowUID, "status": sum.Status.String()}
	if sum.ServerName != "" {
		attrs["sni"] = sum.ServerName
	}
	if sum.Version != 0 {
		attrs["version"] = tls.VersionName(sum.Version)
	}
	if sum.SuiteName != "" {
		attrs["suite"] = sum.SuiteName
	}
	s.sink.Note(decoders.Note{Severity: sev, Code: code, Locator: "flow " + s.net.FlowUID, Offset: -1, Message: msg, Attrs: attrs})
}

func (s *stream) server(sum tls.Summary) string {
	srv := s.net.Dst.String()
	if sum.ServerName != "" {
		srv += " (" + sum.ServerName + ")"
	}
	return srv
}

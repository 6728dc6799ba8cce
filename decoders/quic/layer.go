package quic

import (
	"fmt"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// Layer opens the QUIC connections the engine recognises ("quic" flows) with the secrets of a key
// log: it is a decoders.Unwrapper whose streams are decoders.StreamsLayer, so each QUIC stream
// re-enters the engine as an inner flow of its own (HTTP/3 requests on the client's bidirectional
// streams; read them with decoders/http3).
type Layer struct {
	keys *tlskeys.Log
}

// NewLayer returns the layer for a key log. The log may be shared with the TLS layer and filled
// while the run goes on (key log files first, then the captures' Decryption Secrets Blocks).
func NewLayer(keys *tlskeys.Log) *Layer { return &Layer{keys: keys} }

// HasSecrets implements decoders.SecretHolder.
func (l *Layer) HasSecrets() bool { return l.keys != nil && l.keys.Len() > 0 }

// NotOpened implements decoders.SecretHolder: the connection is counted as undecrypted, without a
// note (there is no key material at all).
func (l *Layer) NotOpened(sink decoders.Sink) { sink.Count("quic_undecrypted", 1) }

// Name implements decoders.Unwrapper; inner flows are named "<outer uid>-quic-<stream ID>".
func (l *Layer) Name() string { return "quic" }

// Unwraps implements decoders.Unwrapper.
func (l *Layer) Unwraps(app string) bool { return app == "quic" }

// AddSecrets implements decoders.SecretsTaker: a capture's own key log goes into the shared log
// (adding the same lines twice, when the TLS layer takes them too, changes nothing).
func (l *Layer) AddSecrets(secretsType uint32, data []byte) {
	l.keys.AddSecret(capture.Secret{Type: secretsType, Data: data})
}

// NewStream implements decoders.Unwrapper.
func (l *Layer) NewStream(in decoders.Input, sink decoders.Sink) decoders.LayerStream {
	s := &layerStream{in: in, sink: sink}
	s.conn = NewConn(l.keys, func(d StreamData) {
		if s.emit != nil {
			s.emit(decoders.InnerStream{ID: d.ID, Dir: d.Dir, Bytes: d.Data, Gap: d.Gap, End: d.Done, Fin: d.Fin && !d.Reset})
		}
	})
	return s
}

// layerStream is the layer of one QUIC connection: of one input, or of several when it continues
// into the next capture of the run (decoders.Continuer).
type layerStream struct {
	in   decoders.Input
	sink decoders.Sink // nil between EndInput and Rebind
	conn *Conn
	emit func(decoders.InnerStream)
	gaps int
	// counted is what earlier inputs were told of the connection's stream bytes and undecrypted
	// packets, so that each input counts its own share.
	counted [2]int64
}

// FeedStreams implements decoders.StreamsLayer: b is one UDP payload of the flow.
func (s *layerStream) FeedStreams(dir netflow.Direction, b []byte, gap bool, emit func(decoders.InnerStream)) {
	if gap {
		s.gaps++ // UDP has no gaps; an engine that says so lost datagrams, which QUIC tolerates
	}
	s.emit = emit
	s.conn.Datagram(dir, b)
	s.emit = nil
}

// Feed implements decoders.LayerStream for an engine that does not know StreamsLayer: the
// streams' bytes come out in the order they complete, interleaved, so only FeedStreams keeps
// them apart.
func (s *layerStream) Feed(dir netflow.Direction, b []byte, gap bool, emit func(netflow.Direction, []byte)) {
	s.FeedStreams(dir, b, gap, func(p decoders.InnerStream) { emit(p.Dir, p.Bytes) })
}

// EndInput implements decoders.Continuer: the connection as it stands is reported on the
// input that ends, and its state waits for its next datagrams in the next capture.
func (s *layerStream) EndInput() {
	if s.sink != nil {
		s.report(s.conn.Summary())
	}
	s.sink = nil
}

// Rebind implements decoders.Continuer.
func (s *layerStream) Rebind(in decoders.Input, sink decoders.Sink) { s.in, s.sink = in, sink }

// Close implements decoders.LayerStream: the connection's state is reported on the input (none
// when that input has ended: EndInput reported on it).
func (s *layerStream) Close() {
	sum := s.conn.Close()
	if s.sink != nil {
		s.report(sum)
	}
}

func (s *layerStream) report(sum Summary) {
	if sum.Status == StatusDecrypted {
		s.sink.Count("quic_decrypted", 1)
		s.sink.Count("quic_stream_bytes", sum.Streams.Bytes-s.counted[0])
		if n := int64(sum.Counts.Undecrypted) - s.counted[1]; n > 0 {
			s.sink.Count("quic_packets_undecrypted", n)
		}
		s.counted = [2]int64{sum.Streams.Bytes, int64(sum.Counts.Undecrypted)}
		return
	}
	s.sink.Count("quic_undecrypted", 1)
	s.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeUndecrypted, Offset: -1,
		Message: fmt.Sprintf("QUIC connection to %q not decrypted (%s): %s", sum.ServerName, sum.Status, sum.Reason)})
}

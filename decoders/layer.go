package decoders

import (
	"droneaudit/geo"
	"droneaudit/netflow"
)

// Unwrapper opens a layer that wraps what a flow carries (TLS with the session keys from a key
// log), so that the inner bytes are recognised and decoded like clear traffic: the engine feeds
// the layer the flow's bytes and hands what comes out back to the payload decoders and observers
// as the bytes of an inner flow. Nothing is changed on the wire; the opening is passive.
type Unwrapper interface {
	Name() string
	// Unwraps reports whether flows the engine recognised as protocol app carry this layer.
	Unwraps(app string) bool
	// NewStream returns the layer's state for one flow within one input.
	NewStream(in Input, sink Sink) LayerStream
}

// SecretHolder is an Unwrapper whose layer needs secrets to open anything (TLS and QUIC with a
// key log). When it holds none, a flow in a capture that cannot bring its own (a pcap file, unlike
// a pcapng with Decryption Secrets Blocks) is not opened at all: no session of it could be
// decrypted, and following each handshake only to say so cost a fifth of an audit of a lab
// capture without keys.
type SecretHolder interface {
	HasSecrets() bool
	// NotOpened is told, with the input's sink, of each flow of the input left unopened so: the
	// layer counts it as a session it could not decrypt.
	NotOpened(sink Sink)
}

// LayerStream opens the layer of one flow.
type LayerStream interface {
	// Feed takes the next in-order bytes of one direction (gap: bytes were lost before them) and
	// calls emit with inner bytes as they become readable, in order within each direction. inner
	// is valid only during the call. emit with nil inner says that inner bytes of that direction
	// were lost before the next ones (the engine marks them as following a gap).
	Feed(dir netflow.Direction, b []byte, gap bool, emit func(dir netflow.Direction, inner []byte))
	// Close is called once when the flow or its input ends.
	Close()
}

// Continuer is a LayerStream or a FlowDecoder whose state carries on when its flow continues from
// one input of the run into the next: a capture rotated in the middle of a connection (tcpdump
// -C/-G, dumpcap ring buffers, the evidence writer's rotated pcapng files, given in order). The
// engine's flow table already follows the flow across the files; with this the layer follows it
// too (a TLS session keeps its keys and record boundaries in the next file instead of starting
// afresh there as a session joined mid-stream), and so does the decoder of what it carries (an
// HTTP request whose body runs on into the next file is read whole).
//
// What the stream reports always goes to the input whose bytes it concerns: the engine calls
// EndInput when the input the stream reports on ends while its flow is still open and another
// capture follows, and Rebind before it hands on the flow's bytes in a later input; evidence made
// from then on names that input, and the frames and offsets of its chunks. A LayerStream or
// FlowDecoder without these methods is closed at the end of each input and opened afresh in the
// next, as before.
type Continuer interface {
	// EndInput reports on the current sink what the stream has to say of its input so far (a TLS
	// session decrypted up to here, or not decrypted, and why), as Close would, but keeps the
	// state: nothing cut at the end of the file is taken as lost, since the next file may carry
	// the rest. The sink is not used again until Rebind; a Close without a Rebind in between
	// reports nothing (the input it would report on has ended).
	EndInput()
	// Rebind directs what the stream reports from now on to another input of the run, whose
	// bytes the flow now carries.
	Rebind(in Input, sink Sink)
}

// SecretsTaker is an Unwrapper that also takes key material found inside the inputs themselves
// (pcapng Decryption Secrets Blocks). The engine calls it from the reader goroutine while flow
// shards may already be opening layers: implementations must be safe for that.
type SecretsTaker interface {
	AddSecrets(secretsType uint32, data []byte)
}

// StreamsLayer is a LayerStream whose inner bytes belong to several streams of one connection
// (QUIC): the engine calls FeedStreams instead of Feed and delivers each stream as an inner flow
// of its own (flowtable.Flow.InStream, StreamID), so a payload decoder or an observer reads one
// stream's bytes in order, as it reads a TCP connection's.
type StreamsLayer interface {
	LayerStream
	// FeedStreams takes one datagram (or the next bytes) of one direction of the outer flow and
	// calls emit with the in-order pieces of the inner streams it completes.
	FeedStreams(dir netflow.Direction, b []byte, gap bool, emit func(InnerStream))
}

// InnerStream is one in-order piece of one stream of a StreamsLayer.
type InnerStream struct {
	ID    uint64            // the stream within the connection
	Dir   netflow.Direction // the direction the bytes travelled
	Bytes []byte            // valid only during the call
	Gap   bool              // bytes of this direction of the stream were lost before Bytes
	End   bool              // the stream carries nothing more: its inner flow ends
	// Fin: this direction of the stream ended cleanly after Bytes (QUIC: its FIN, not a reset
	// or the connection's end), so what it carried is whole.
	Fin bool
}

// FlowStream is a LayerStream that wants to know the flow it opens, to name it in its notes. The
// engine calls SetFlow once, before the first Feed, with the flow as its client sent it.
type FlowStream interface {
	SetFlow(n geo.Network)
}

package mavlink

import (
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// Net finds MAVLink in network flows inside captures, on any port: UDP datagrams (one or more
// frames each) and TCP streams (frames cut across segments). Positions found there have left the
// device: network channel.
type Net struct{}

// Name implements decoders.PayloadDecoder.
func (Net) Name() string { return Name }

// sniffSpan is how far into a first payload a verified frame may start.
const sniffSpan = 64

// Sniff implements decoders.PayloadDecoder: a verified frame near the start of the payload. A
// verified checksum with the dialect's CRC_EXTRA is a strong signal; port numbers are not used.
func (Net) Sniff(p []byte) bool {
	for i := 0; i < len(p) && i < sniffSpan; i++ {
		if p[i] != STXv1 && p[i] != STXv2 {
			continue
		}
		if _, st := candidate(p[i:]); st == stOK {
			return true
		}
	}
	return false
}

// NewFlow implements decoders.PayloadDecoder.
func (Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{e: newEmitter(in, sink, geo.ChannelNetwork)}
}

type flow struct {
	e *emitter
	// carry holds the start of a frame cut at the end of a TCP segment, per direction.
	carry [2][]byte
}

func (fl *flow) Segment(s decoders.Segment) {
	net := s.Network
	fl.e.net = &net
	stream := net.Proto == netflow.TCP
	d := net.Direction
	data := s.Payload
	if stream {
		if s.Gap {
			fl.carry[d] = fl.carry[d][:0]
		}
		if len(fl.carry[d]) > 0 {
			data = append(fl.carry[d], s.Payload...)
		}
	}
	locate := func() geo.Evidence {
		return fl.e.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
	}
	used := Scan(data, !stream, func(f *Frame, off int) {
		fl.e.frame(f, locate, s.Time)
	}, func(off, n int) {
		fl.e.sink.Count("skipped_bytes", int64(n))
	})
	if stream {
		rest := data[used:]
		if len(rest) > MaxFrame {
			rest = rest[len(rest)-MaxFrame:]
		}
		fl.carry[d] = append(fl.carry[d][:0], rest...)
	}
}

func (fl *flow) Close() {
	for d := range fl.carry {
		if n := len(fl.carry[d]); n > 0 {
			fl.e.sink.Count("skipped_bytes", int64(n))
		}
	}
}

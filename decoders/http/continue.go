package http

import (
	"droneaudit/decoders"
	"droneaudit/decoders/mqttws"
)

// A connection split over rotated capture files (decoders.Continuer): the flow's HTTP/1 and
// HTTP/2 state carries on into the next file, so a request whose body runs on there is read
// whole, and what it yields names the input, frame and offset of the segment that completed it.

// EndInput implements decoders.Continuer. Nothing is reported per input (requests are counted as
// they come); the sink of the ended input is dropped. MQTT over WebSocket (mqttws keeps its own
// input and sink) is ended here, on its own input: its PUBLISH packets after the file's end are
// not read by this decoder.
func (fl *flow) EndInput() {
	if c, ok := fl.ws.(*mqttws.Conn); ok {
		c.Close()
		fl.ws = endedWS{}
	}
	for id, w := range fl.h2ws {
		if c, ok := w.(*mqttws.Conn); ok {
			c.Close()
			fl.h2ws[id] = endedWS{}
		}
	}
	fl.sink = decoders.Discard
}

// Rebind implements decoders.Continuer.
func (fl *flow) Rebind(in decoders.Input, sink decoders.Sink) { fl.in, fl.sink = in, sink }

// endedWS takes the bytes of a WebSocket connection no longer read.
type endedWS struct{}

func (endedWS) Segment(decoders.Segment) {}
func (endedWS) Close()                   {}

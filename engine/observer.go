package engine

import (
	"time"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
)

// Observer watches every capture of a run: the destination inventory is one, the device
// inventory another. An observer sees frames on the reader goroutine and flow bytes in the flow
// shards; it keeps one part per shard and merges them when the run is over, so its result does
// not depend on the number of shards.
type Observer interface {
	// Shard returns the observer's part for flow shard i. It is called once per shard, before any
	// packet, and the part is used by that shard's goroutine only.
	Shard(i int) FlowObserver
	// Packet is called on the reader goroutine for every frame of a capture.
	Packet(p *PacketEvent)
	// CaptureEnd is called on the reader goroutine after the last frame of a capture; err says why
	// the capture stopped early (a damaged or cut file), nil at a clean end.
	CaptureEnd(in *Input, err error)
}

// PacketEvent is one frame as the reader goroutine sees it. It is valid only during the call.
type PacketEvent struct {
	Input  *Input
	Packet *capture.Packet
	// Transport is the frame's TCP or UDP view, nil when it carries neither (ARP, 802.11, serial).
	Transport *capture.Transport
	// Err says why the frame's headers could not be decoded whole.
	Err error
}

// FlowObserver is an observer's part in one flow shard.
type FlowObserver interface {
	// Chunk is called with every in-order piece of a flow: a UDP datagram, the next bytes of one
	// direction of a TCP stream, or a gap. state is the observer's slot on the flow.
	Chunk(c *Chunk, state *any)
	// Ended is called when a flow expires or the run ends.
	Ended(f *flowtable.Flow, state *any)
	// InputEnd is called after the shard has handled the last packet of a capture input.
	InputEnd(in *Input)
}

// Chunk is one delivery of a flow's bytes. It and its payload are valid only during the call.
type Chunk struct {
	flowtable.Delivery
	Input  *Input
	Frame  int       // the frame that completed these bytes
	Offset int64     // that frame's record offset in the input; -1 when released by a timeout
	Time   time.Time //
	// App names the protocol the engine recognised on the flow, "" while it has not.
	App string
}

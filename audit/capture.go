package audit

import (
	"context"
	"errors"
	"fmt"
	"io"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/geo"
)

// sniffSegments is how many payload-carrying segments of a flow are offered to the payload
// decoders before the flow is left alone.
const sniffSegments = 4

// flowState is the audit's per-flow state, kept in capture.Flow.Data.
type flowState struct {
	dec   decoders.FlowDecoder
	tries int
}

// decodeCapture runs a pcap or pcapng file through the capture layer: IP frames into flows and
// the payload decoders that recognise them, other link types to the link decoders.
func decodeCapture(ctx context.Context, in decoders.Input, sink *inputSink) error {
	r, err := capture.NewReader(in.Reader(), in.Path)
	if err != nil {
		return err
	}
	sink.rep.Format = r.Format()
	r.OnSecrets = func(s capture.Secret) {
		sink.Count("decryption_secrets_blocks", 1)
	}
	nd := capture.NewNetDecoder()
	ft := capture.NewFlowTable()
	links := map[decoders.LinkDecoder]decoders.LinkStream{}
	var linkOrder []decoders.LinkStream
	var flowDecs []decoders.FlowDecoder
	malformed := 0
	for n := 0; ; n++ {
		if n%8192 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A cut or damaged capture: everything before the damage has been decoded.
			var fe *capture.FormatError
			off := int64(-1)
			if errors.As(err, &fe) {
				off = fe.Offset
			}
			sink.Note(decoders.Note{Severity: decoders.Error, Code: "truncated", Offset: off, Message: err.Error()})
			break
		}
		// Capture-level counters are named "packets…" so that they never mix with the frame
		// counts of the protocols inside.
		sink.Count("packets", 1)
		if p.LinkType.IsIP() {
			tr, ok, derr := nd.Decode(p)
			if derr != nil {
				sink.Count("packets_malformed", 1)
				if malformed++; malformed <= 20 {
					sink.Note(decoders.Note{Severity: decoders.Warning, Code: "malformed", Locator: fmt.Sprintf("frame %d", p.Frame), Offset: p.Offset, Message: derr.Error()})
				}
			}
			if !ok {
				continue
			}
			d := ft.Add(tr, p.Frame, p.Time)
			if len(d.Payload) == 0 && !d.Gap {
				continue
			}
			st, _ := d.Flow.Data.(*flowState)
			if st == nil {
				st = &flowState{}
				d.Flow.Data = st
			}
			if st.dec == nil {
				if st.tries >= sniffSegments || len(d.Payload) == 0 {
					continue
				}
				st.tries++
				for _, pd := range payloadDecoders {
					if pd.Sniff(d.Payload) {
						st.dec = pd.NewFlow(in, sink)
						flowDecs = append(flowDecs, st.dec)
						sink.Count("flows_decoded_"+pd.Name(), 1)
						break
					}
				}
				if st.dec == nil {
					continue
				}
			}
			st.dec.Segment(decoders.Segment{Frame: p.Frame, Offset: p.Offset, Time: p.Time, Gap: d.Gap, Payload: d.Payload,
				Network: segmentNetwork(d, tr)})
			continue
		}
		handled := false
		for _, ld := range linkDecoders {
			if !ld.Handles(p.LinkType) {
				continue
			}
			ls, ok := links[ld]
			if !ok {
				ls = ld.NewLink(in, sink)
				links[ld] = ls
				linkOrder = append(linkOrder, ls)
			}
			ls.Packet(p)
			handled = true
		}
		if !handled {
			sink.Count("packets_unsupported_linktype", 1)
		}
	}
	for _, fd := range flowDecs {
		fd.Close()
	}
	for _, ls := range linkOrder {
		ls.Close()
	}
	var skipped, gapFlows int64
	for _, f := range ft.Flows() {
		if n := f.SkippedBytes[0] + f.SkippedBytes[1]; n > 0 {
			skipped += n
			gapFlows++
		}
	}
	sink.Count("flows", int64(len(ft.Flows())))
	if skipped > 0 {
		sink.Count("tcp_bytes_skipped", skipped)
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: "tcp-gaps", Offset: -1,
			Message: fmt.Sprintf("%d TCP payload bytes in %d flow(s) were not captured (holes in the sequence space); decoding resumed after each hole", skipped, gapFlows)})
	}
	return nil
}

func segmentNetwork(d capture.Delivery, tr *capture.Transport) geo.Network {
	dir := "client-to-server"
	if d.Dir == capture.ServerToClient {
		dir = "server-to-client"
	}
	return geo.Network{
		FlowUID:   d.Flow.UID,
		Protocol:  d.Flow.ProtoName(),
		SrcIP:     tr.Src.Addr().String(),
		SrcPort:   tr.Src.Port(),
		DstIP:     tr.Dst.Addr().String(),
		DstPort:   tr.Dst.Port(),
		Direction: dir,
	}
}

package requests

import (
	"strconv"
	"time"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders/http"
	"droneaudit/decoders/http3"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// HTTP/3: each request stream of a QUIC connection opened by the QUIC layer is an inner flow of
// its own (flowtable.Flow.InStream) recognised as "http3"; its row is made when the stream ends,
// complete when each direction ended with its FIN (Flow.StreamFin) rather than with the
// connection or the capture.

// feed3 takes the next bytes of one direction of a request stream.
func (st *flowState) feed3(c *engine.Chunk) {
	if st.reqTime.IsZero() {
		st.reqIn, st.reqFrame, st.reqTime = c.Input, c.Frame, c.Time // where the request began
	}
	if c.Gap {
		st.h3.Gap(c.Dir)
	}
	st.h3.Feed(c.Dir, c.Payload)
}

// end3 makes the stream's row.
func (st *flowState) end3(f *flowtable.Flow) {
	for dir := range f.StreamFin {
		if f.StreamFin[dir] {
			st.h3.Fin(netflow.Direction(dir))
		}
	}
	ex := st.h3.Exchange()
	q := &ex.Request
	if q.Method == "" {
		return // not a request stream after all (a push or unidirectional stream)
	}
	r := st.row3(f, ex.StreamID, st.reqIn, st.reqFrame, st.reqTime)
	r.Protocol, r.Method = "h3", q.Method
	if r.Name == "" {
		r.Name = hostOnly(q.Authority)
	}
	r.URL = absURL(true, hostOr(q.Authority, r.Name, r.Server), q.Path)
	r.Request = st.body3(r.ID, netflow.ClientToServer, q)
	if s := &ex.Response; s.Status != 0 || s.BodyLen > 0 || s.Complete {
		r.Status = s.Status
		b := st.body3(r.ID, netflow.ServerToClient, s)
		r.Response = &b
	}
	st.p.rows = append(st.p.rows, r)
}

// row3 starts the row of a request stream: named by the QUIC connection's flow and the stream
// ID, as decoders/http names the request in evidence (http.H3RequestID).
func (st *flowState) row3(f *flowtable.Flow, id uint64, in *engine.Input, frame int, t time.Time) Row {
	conn := f.UID()
	if f.Outer != nil {
		conn = f.Outer.UID()
	}
	r := Row{ID: conn + "#" + strconv.FormatUint(id, 10), Input: in.Name, inIx: in.Index, in: in, Flow: conn, Frame: frame,
		Time: t.UTC(), Server: f.Server.String(), TLS: true}
	for o := f.Outer; o != nil; o = o.Outer {
		if sni := st.p.sni[o]; sni != "" {
			r.Name = sni
		}
	}
	return r
}

func (st *flowState) body3(id string, dir netflow.Direction, m *http3.Message) Body {
	var sum [32]byte
	if m.Complete {
		sum = m.SHA256
	}
	b := st.body(id, dir, m.Header("content-type"), m.Header("content-encoding"), m.Body, m.BodyLen, sum, m.BodyTruncated, m.Complete)
	if !m.Complete && m.BodyLen == 0 {
		b.SHA256 = "" // nothing seen of a body that may have been sent
	}
	b.ContentLength = http.ParseContentLength(m.Header("content-length"))
	return b
}

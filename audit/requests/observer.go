package requests

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders/http"
	"droneaudit/decoders/http3"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/tls"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// part is the collector's state in one flow shard.
type part struct {
	opt  *Options
	c    *Collector
	rows []Row
	// sni holds the SNI of each outer TLS flow of the shard, so that the rows of its inner flow
	// name the server as the client did. Keyed by *flowtable.Flow; deleted when the flow ends.
	sni map[any]string
}

// flowState is the per-flow slot: what follows the flow's messages.
type flowState struct {
	hello *tls.Collector // an outer TLS flow: its ClientHello
	h1    *http.H1Conn
	h2    *http.H2Conn
	mq    *mqtt.Conn
	h3    *http3.Stream // an HTTP/3 request stream (observer_h3.go)
	in    *engine.Input // the input of the chunk being fed
	flow  *flowtable.Flow
	p     *part
	// the chunk being fed, for the rows made during it
	frame int
	time  time.Time
	// where and when the client's current HTTP/1 request started: a request may start in one
	// file of a rotated capture and end in the next
	reqIn    *engine.Input
	reqFrame int
	reqTime  time.Time
	h2open   map[uint32]*Row // HTTP/2 requests waiting for their response
	mqttN    int
	orphans  int               // responses without a request
	mqDir    netflow.Direction // the direction being fed to mq
	dead     bool
	// after a WebSocket upgrade (websocket.go): the exchange of the 101, then the reader
	upgrade *http.Exchange
	ws      *wsState
	mqWS    bool
	// WebSocket over HTTP/2 streams (RFC 8441), by stream ID (websocket.go)
	h2ws map[uint32]*h2WS
}

// Chunk implements engine.FlowObserver.
func (p *part) Chunk(c *engine.Chunk, state *any) {
	st, _ := (*state).(*flowState)
	if st == nil {
		if c.App == "" {
			return
		}
		st = &flowState{in: c.Input, flow: c.Flow, p: p}
		*state = st
		switch c.App {
		case "tls":
			if c.Flow.Outer == nil {
				st.hello = &tls.Collector{}
			}
		case "http":
			st.h1 = http.NewH1Conn(http.H1Config{MaxBody: p.opt.MaxBody, OnExchange: st.exchange, Recycle: true})
		case "http2":
			st.h2 = http.NewH2Conn(http.H2Config{MaxBody: p.opt.MaxBody, OnMessage: st.message2, OnTunnel: st.tunnel2, Recycle: true})
			st.h2open = map[uint32]*Row{}
		case "mqtt":
			st.mq = &mqtt.Conn{}
		case "http3":
			st.h3 = http3.NewStream(c.Flow.StreamID, p.opt.MaxBody)
		default:
			st.dead = true
		}
	}
	if st.dead {
		return
	}
	// A flow that runs on into the next input (a capture rotated mid-connection, whose flow and
	// TLS session the engine carries on) is followed there too; each row names the input and
	// frame where its message was.
	st.in, st.frame, st.time = c.Input, c.Frame, c.Time
	switch {
	case st.hello != nil:
		if c.Dir == netflow.ClientToServer && !st.hello.Done() && len(c.Payload) > 0 {
			if st.hello.Feed(c.Payload) {
				if ch, _ := st.hello.Result(); ch != nil && ch.ServerName != "" {
					p.sni[c.Flow] = ch.ServerName
				}
			}
		}
	case st.ws != nil:
		st.feedWS(c)
	case st.h1 != nil:
		if c.Gap {
			st.h1.Gap(c.Dir)
		}
		if c.Dir == netflow.ClientToServer && !st.h1.InMessage(c.Dir) {
			st.reqIn, st.reqFrame, st.reqTime = c.Input, c.Frame, c.Time
		}
		st.h1.Feed(c.Dir, c.Payload)
		if st.h1.Upgraded {
			st.upgraded()
		}
	case st.h2 != nil:
		if c.Gap {
			st.dead = true // frame boundaries are lost
			return
		}
		st.h2.Feed(c.Dir, c.Payload)
	case st.h3 != nil:
		st.feed3(c)
	case st.mq != nil:
		if c.Gap {
			st.dead = true
			return
		}
		// Fed on after an error, as the MQTT payload decoder does: both number the PUBLISH
		// packets alike.
		st.mqDir = c.Dir
		st.mq.Feed(int(c.Dir), c.Payload, st.publish)
	}
}

// Ended implements engine.FlowObserver.
func (p *part) Ended(f *flowtable.Flow, state *any) {
	st, _ := (*state).(*flowState)
	if f.Outer == nil {
		defer delete(p.sni, f)
	}
	if st == nil {
		return
	}
	switch {
	case st.ws != nil:
		st.ws.c.Close()
	case st.h1 != nil:
		st.h1.Close()
	case st.h2 != nil:
		st.h2.Close()
		for _, w := range st.h2ws {
			if w.c != nil {
				w.c.Close()
			}
		}
		for _, r := range st.h2open {
			p.rows = append(p.rows, *r)
		}
		st.h2open = nil
	case st.h3 != nil:
		st.end3(f)
	}
	*state = nil
}

// InputEnd implements engine.FlowObserver.
func (p *part) InputEnd(*engine.Input) {}

// row starts a row for this flow.
func (st *flowState) row(n int, in *engine.Input, frame int, t time.Time) Row {
	f := st.flow
	r := Row{ID: f.UID() + "#" + strconv.Itoa(n), Input: in.Name, inIx: in.Index, in: in, Flow: f.UID(), Frame: frame, Time: t.UTC(),
		Server: f.Server.String(), TLS: f.Outer != nil}
	for o := f.Outer; o != nil; o = o.Outer {
		if sni := st.p.sni[o]; sni != "" {
			r.Name = sni
		}
	}
	return r
}

func (st *flowState) exchange(ex *http.Exchange) {
	var r Row
	n := ex.Seq
	if ex.Request == nil {
		n = 0
	}
	if ex.Request != nil {
		r = st.row(n, st.reqIn, st.reqFrame, st.reqTime)
		q := ex.Request
		r.Protocol, r.Method = "http/1.1", q.Method
		if q.Version == "HTTP/1.0" {
			r.Protocol = "http/1.0"
		}
		if r.Name == "" {
			r.Name = q.Host
		}
		r.URL = absURL(r.TLS, hostOr(q.Get("Host"), r.Name, r.Server), q.Target)
		r.Request = st.body(r.ID, q.Dir, q.ContentType, q.ContentEncoding, q.Body, q.BodyLen, q.SHA256, q.Truncated, q.Complete)
		r.Request.ContentLength = q.ContentLength
	} else {
		// A response whose request was not seen (the capture joined the connection late).
		st.orphans++
		r = st.row(0, st.in, st.frame, st.time)
		r.ID += "-" + strconv.Itoa(st.orphans)
		r.Protocol, r.Method = "http/1.1", "?"
	}
	if s := ex.Response; s != nil {
		if s.Status == 101 {
			st.upgrade = ex
		}
		r.Status = s.Status
		b := st.body(r.ID, s.Dir, s.ContentType, s.ContentEncoding, s.Body, s.BodyLen, s.SHA256, s.Truncated, s.Complete)
		b.ContentLength = s.ContentLength
		r.Response = &b
	}
	st.p.rows = append(st.p.rows, r)
}

func (st *flowState) message2(m *http.H2Message) {
	if m.Dir == netflow.ClientToServer {
		r := st.row(int(m.StreamID), st.in, st.frame, st.time)
		r.Protocol, r.Method = "h2", m.Method
		if r.Name == "" {
			r.Name = hostOnly(m.Authority)
		}
		r.URL = absURL(r.TLS, hostOr(m.Authority, r.Name, r.Server), m.Path)
		r.Request = st.body2(r.ID, m)
		if old := st.h2open[m.StreamID]; old != nil {
			st.p.rows = append(st.p.rows, *old)
		}
		st.h2open[m.StreamID] = &r
		return
	}
	r := st.h2open[m.StreamID]
	if r == nil {
		return // a response to a stream not followed
	}
	delete(st.h2open, m.StreamID)
	r.Status = m.Status
	b := st.body2(r.ID, m)
	r.Response = &b
	st.p.rows = append(st.p.rows, *r)
}

func (st *flowState) body2(id string, m *http.H2Message) Body {
	b := st.body(id, m.Dir, m.Header("content-type"), m.Header("content-encoding"), m.Body, m.BodyLen, m.SHA256, m.Truncated, m.Complete)
	b.ContentLength = m.ContentLength
	return b
}

// body makes a row's body and hands the bytes to the hook.
func (st *flowState) body(id string, dir netflow.Direction, ctype, cenc string, b []byte, n int64, sum [32]byte, truncated, complete bool) Body {
	out := Body{Size: n, ContentType: ctype, ContentEncoding: cenc, Complete: complete}
	if sum != ([32]byte{}) || n == 0 {
		out.SHA256 = hex.EncodeToString(sum[:])
		if n == 0 {
			out.SHA256 = emptySHA256
		}
	}
	if n > 0 && st.p.opt.MaxBody >= 0 {
		ct := &Content{Request: id, Dir: dir, ContentType: ctype, ContentEncoding: cenc, Bytes: b, Size: n, Truncated: truncated}
		if st.p.opt.OnBody != nil {
			out.Summary = st.p.opt.OnBody(ct)
		} else {
			st.p.c.openBody(&out, ct)
		}
	}
	return out
}

func (st *flowState) publish(pk *mqtt.Packet) {
	if pk.Type != mqtt.TypePublish {
		return
	}
	st.mqttN++
	proto := "mqtt"
	if st.mqWS {
		proto = "mqtt/ws"
	}
	st.publishRow(pk, st.publishID(st.mqttN), proto, st.mqDir)
}

// publishRow makes the row of a PUBLISH.
func (st *flowState) publishRow(pk *mqtt.Packet, id, proto string, dir netflow.Direction) {
	r := st.row(0, st.in, st.frame, st.time)
	r.ID = id
	r.Protocol, r.Method, r.URL = proto, "PUBLISH", pk.Topic
	r.Direction = dir.String()
	var sum [32]byte
	if !pk.Truncated {
		sum = sha256Of(pk.Payload)
	}
	// A payload longer than the MQTT reader keeps is listed with the size kept, no hash, and
	// Complete false.
	r.Request = st.body(r.ID, dir, "", "", pk.Payload, int64(len(pk.Payload)), sum, pk.Truncated, !pk.Truncated)
	r.Request.ContentLength = -1
	st.p.rows = append(st.p.rows, r)
}

func absURL(tls bool, host, target string) string {
	if strings.Contains(target, "://") {
		return target // absolute form, a request to a proxy
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + host + target
}

func hostOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// hostOnly drops a port from an authority.
func hostOnly(a string) string {
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.Contains(a[i:], "]") {
		return strings.ToLower(a[:i])
	}
	return strings.ToLower(a)
}

// emptySHA256 is the SHA-256 of no bytes.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }

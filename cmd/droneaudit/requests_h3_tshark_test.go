package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"droneaudit/decoders/http3"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// tsharkStreams decrypts a QUIC capture with tshark and returns the bytes of every stream, per
// stream ID and direction, put together by offset from tshark's own STREAM frames (its PDML
// output: tshark 4.0 does not decode HTTP/3 header fields).
func tsharkStreams(t *testing.T, tshark, capture, keys string) map[uint64]*[2][]byte {
	t.Helper()
	cmd := exec.Command(tshark, "-n", "-r", capture, "-o", "tls.keylog_file:"+keys, "-Y", "quic.stream.stream_id", "-T", "pdml")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	streams := map[uint64]*[2][]byte{}
	type frame struct {
		id, off uint64
		data    []byte
		ok      bool
	}
	var cur frame
	dir := netflow.ClientToServer
	flush := func() {
		if !cur.ok {
			return
		}
		s := streams[cur.id]
		if s == nil {
			s = &[2][]byte{}
			streams[cur.id] = s
		}
		b := &s[dir]
		if end := cur.off + uint64(len(cur.data)); uint64(len(*b)) < end {
			*b = append(*b, make([]byte, end-uint64(len(*b)))...)
		}
		copy((*b)[cur.off:], cur.data)
		cur = frame{}
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch attr["name"] {
		case "udp.srcport":
			flush()
			dir = netflow.ClientToServer
			if attr["show"] == strconv.Itoa(int(netfixture.QUICServer.Port())) {
				dir = netflow.ServerToClient
			}
		case "quic.frame":
			flush()
		case "quic.stream.stream_id":
			cur.id, _ = strconv.ParseUint(attr["show"], 10, 62)
			cur.ok = true
		case "quic.stream.offset":
			cur.off, _ = strconv.ParseUint(attr["show"], 10, 62)
		case "quic.stream_data":
			cur.data, _ = hex.DecodeString(attr["value"])
		}
	}
	flush()
	return streams
}

// tshark is the oracle for HTTP/3: on the same quic-go captures (QUIC v1 and v2) and key log, the
// client request streams tshark decrypts, read as HTTP/3, give the same methods, paths, statuses
// and body hashes as the requests rows.
func TestRequestsHTTP3MatchTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (Debian package tshark)")
	}
	for _, v2 := range []bool{false, true} {
		_, pcap, keys := h3Capture(t, t.TempDir(), v2)
		code, out, errs := cli(t, "requests", "--format", "json", "--keylog", keys, pcap)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc struct {
			Requests []h3Row `json:"requests"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var ours, theirs []string
		for _, r := range doc.Requests {
			id := r.ID[strings.LastIndexByte(r.ID, '#')+1:]
			ours = append(ours, strings.Join([]string{id, r.Method, strings.TrimPrefix(r.URL, "https://api.dji.example"), strconv.Itoa(r.Status), r.Request.SHA256, r.Response.SHA256}, " "))
		}
		streams := tsharkStreams(t, tshark, pcap, keys)
		for id, b := range streams {
			if id%4 != 0 { // client-initiated bidirectional streams carry the requests
				continue
			}
			s := http3.NewStream(id, 0)
			for dir := range b {
				s.Feed(netflow.Direction(dir), b[dir])
				s.Fin(netflow.Direction(dir))
			}
			ex := s.Exchange()
			theirs = append(theirs, strings.Join([]string{strconv.FormatUint(id, 10), ex.Request.Method, ex.Request.Path, strconv.Itoa(ex.Response.Status),
				hex.EncodeToString(ex.Request.SHA256[:]), hex.EncodeToString(ex.Response.SHA256[:])}, " "))
		}
		slices.Sort(theirs)
		if len(ours) != len(h3Requests()) || !slices.Equal(ours, theirs) {
			t.Errorf("v2=%v:\nours   %q\ntshark %q", v2, ours, theirs)
		}
	}
}

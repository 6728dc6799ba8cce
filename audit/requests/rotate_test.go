package requests_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/internal/netfixture"
)

// wireFrame is what a rotation test needs of one frame of a generated capture: which side of
// which connection sent it, and where its payload ends in that side's byte stream.
type wireFrame struct {
	port       uint16 // the client's port: the connection
	fromClient bool
	end        int // the side's stream offset after this frame's payload
	n          int // payload bytes
}

// wireFrames reads the TCP frames of a generated pcapng capture (Ethernet, IPv4, the server on 443), and
// the byte stream of each side of each connection.
func wireFrames(t *testing.T, capture []byte) ([]wireFrame, map[[2]uint16][]byte) {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(capture), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[[2]uint16][]byte{}
	var out []wireFrame
	src := gopacket.NewPacketSource(r, layers.LinkTypeEthernet)
	for p := range src.Packets() {
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			out = append(out, wireFrame{})
			continue
		}
		fromClient := tcp.DstPort == 443
		port := uint16(tcp.SrcPort)
		if !fromClient {
			port = uint16(tcp.DstPort)
		}
		k := [2]uint16{port, map[bool]uint16{true: 0, false: 1}[fromClient]}
		streams[k] = append(streams[k], tcp.Payload...)
		out = append(out, wireFrame{port: port, fromClient: fromClient, end: len(streams[k]), n: len(tcp.Payload)})
	}
	return out, streams
}

// insideBigRecord reports whether stream offset off falls strictly inside a TLS record of more
// than 4000 bytes (RFC 8446 §5.1 headers walked from the start of the stream): such records carry
// bulk application data, the body of an upload or a download.
func insideBigRecord(stream []byte, off int) bool {
	for p := 0; p+5 <= len(stream); {
		n := int(stream[p+3])<<8 | int(stream[p+4])
		if off > p && off < p+5+n {
			return n > 4000
		}
		p += 5 + n
	}
	return false
}

// cutWhere returns the index of the first frame at or after from (0-based) that ends a payload
// of the given side strictly inside a bulk TLS record: cutting the capture after that frame
// splits a record, and the body it carries, between two files.
func cutWhere(t *testing.T, frames []wireFrame, streams map[[2]uint16][]byte, fromClient bool, from int) int {
	t.Helper()
	for i := from; i < len(frames); i++ {
		f := frames[i]
		if f.n > 0 && f.fromClient == fromClient &&
			insideBigRecord(streams[[2]uint16{f.port, map[bool]uint16{true: 0, false: 1}[fromClient]}], f.end) {
			return i + 1
		}
	}
	t.Fatalf("no frame ends inside a bulk record of that side after frame %d", from)
	return 0
}

// buildFiles is build on several captures of one run, given in order.
func buildFiles(t *testing.T, names []string, files [][]byte, keylog []byte) (*requests.Result, map[string][]byte) {
	t.Helper()
	keys := tlskeys.NewLog()
	keys.AddText(keylog)
	return buildWith(t, names, files, tlslayer.New(keys))
}

// buildWith is buildFiles with the layer given.
func buildWith(t *testing.T, names []string, files [][]byte, layer decoders.Unwrapper) (*requests.Result, map[string][]byte) {
	t.Helper()
	var mu sync.Mutex
	bodies := map[string][]byte{}
	opt := requests.Options{MaxBody: 4 << 20, OnBody: func(c *requests.Content) string {
		mu.Lock()
		defer mu.Unlock()
		bodies[c.Request+" "+c.Dir.String()] = bytes.Clone(c.Bytes)
		return ""
	}}
	var srcs []engine.Source
	for i := range files {
		srcs = append(srcs, engine.BytesSource(names[i], files[i]))
	}
	res, err := requests.Build(context.Background(), srcs,
		destinations.Options{Unwrappers: []decoders.Unwrapper{layer}, Shards: 2}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, bodies
}

// A real HTTPS connection (net/http over crypto/tls, HTTP/1.1 and HTTP/2) captured by a tool that
// rotates its files, split in the middle of a TLS record carrying an upload's body, of one
// carrying a download's, and between the ClientHello and the ServerHello: given in order, the
// files yield the same requests as the single capture — every request and response body byte for
// byte, no session reported as joined mid-stream or decrypted in part — and each row names the
// file and the frame within it where its bytes were, with that file's SHA-256.
func TestHTTPSAcrossRotatedCaptures(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1.1", true: "h2"}[h2], func(t *testing.T) {
			capture, keylog, p := record(t, h2, netfixture.Pcapng)
			ref, refBodies := build(t, "whole.pcapng", capture, keylog)
			if len(ref.Rows) != len(p) {
				t.Fatalf("single capture: %d rows, want %d", len(ref.Rows), len(p))
			}
			frames, streams := wireFrames(t, capture)
			upload := cutWhere(t, frames, streams, true, 0)
			download := cutWhere(t, frames, streams, false, upload+len(frames)/4)
			hello := 0
			for i, f := range frames {
				if f.n > 0 {
					hello = i + 1 // right after the ClientHello's frame
					break
				}
			}
			for _, tc := range []struct {
				name string
				cuts []int
			}{
				{"upload", []int{upload}},
				{"upload+download", []int{upload, download}},
				{"hello+download", []int{hello, download}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					files, err := netfixture.Rotate(capture, tc.cuts...)
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for i := range files {
						names = append(names, "ring_0000"+string(rune('1'+i))+".pcapng")
					}
					res, bodies := buildFiles(t, names, files, keylog)
					compareRotated(t, ref, refBodies, res, bodies, names, files, tc.cuts)
				})
			}
		})
	}
}

// compareRotated checks the rows of the rotated files against those of the single capture.
func compareRotated(t *testing.T, ref *requests.Result, refBodies map[string][]byte, res *requests.Result, bodies map[string][]byte,
	names []string, files [][]byte, cuts []int) {
	t.Helper()
	if len(res.Rows) != len(ref.Rows) {
		for _, r := range res.Rows {
			t.Logf("row %s %s %s %s", r.ID, r.Input, r.Method, r.URL)
		}
		t.Fatalf("%d rows, want %d as from the single capture; notes %v", len(res.Rows), len(ref.Rows), res.Notes)
	}
	starts := append([]int{0}, cuts...)
	for i, r := range res.Rows {
		w := ref.Rows[i]
		if r.ID != w.ID || r.Method != w.Method || r.URL != w.URL || r.Status != w.Status || r.Protocol != w.Protocol || r.Name != w.Name || !r.Time.Equal(w.Time) {
			t.Errorf("row %d: %s %s %s %d %s, want %s %s %s %d %s", i, r.ID, r.Method, r.URL, r.Status, r.Protocol, w.ID, w.Method, w.URL, w.Status, w.Protocol)
		}
		if r.Request.Size != w.Request.Size || r.Request.SHA256 != w.Request.SHA256 || r.Request.Complete != w.Request.Complete || !w.Request.Complete {
			t.Errorf("row %d: request body %d %s complete %v, want %d %s", i, r.Request.Size, r.Request.SHA256, r.Request.Complete, w.Request.Size, w.Request.SHA256)
		}
		if r.Response == nil || r.Response.Size != w.Response.Size || r.Response.SHA256 != w.Response.SHA256 || !r.Response.Complete {
			t.Errorf("row %d: response %+v, want %+v", i, r.Response, w.Response)
		}
		for _, dir := range []string{" client-to-server", " server-to-client"} {
			if !bytes.Equal(bodies[r.ID+dir], refBodies[w.ID+dir]) {
				t.Errorf("row %d: %s body handed to the hook differs (%d bytes, want %d)", i, dir, len(bodies[r.ID+dir]), len(refBodies[w.ID+dir]))
			}
		}
		// The single capture's frame w.Frame (from 1) is frame Frame of the file it fell in.
		k := 0
		for k+1 < len(starts) && w.Frame-1 >= starts[k+1] {
			k++
		}
		sum := sha256.Sum256(files[k])
		if r.Input != names[k] || r.Frame != w.Frame-starts[k] || r.InputSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("row %d (%s %s): %s frame %d sha %.12s, want %s frame %d sha %.12x", i, r.Method, r.URL, r.Input, r.Frame, r.InputSHA256, names[k], w.Frame-starts[k], sum)
		}
	}
	for _, n := range res.Notes {
		if strings.HasPrefix(string(n.Code), "tls-") {
			t.Errorf("note %s: %s", n.Code, n.Line())
		}
	}
	// The text listing says where each row was and the SHA-256 of each file it names.
	var txt bytes.Buffer
	res.WriteText(&txt)
	for _, r := range res.Rows {
		if !strings.Contains(txt.String(), " "+r.Input+":"+strconv.Itoa(r.Frame)+" ") || !strings.Contains(txt.String(), r.InputSHA256+"  "+r.Input+"\n") {
			t.Errorf("text listing lacks %s:%d or its SHA-256:\n%s", r.Input, r.Frame, txt.String())
		}
	}
}

// Two captures of two different HTTPS sessions that happen to share their addresses and ports
// (not a rotation: the second file's connection starts with its own SYN and handshake) are not
// glued into one session: the SYN on ports whose connection closed, or already carried bytes,
// starts a new flow (flowtable.Table.Reused), so each session is decrypted with its own keys and
// its rows name its own file, under a flow uid of its own. That holds whether the first file
// ends with the connection closed or in the middle of it (cut inside a record of the upload).
func TestUnrelatedCapturesSameFourTuple(t *testing.T) {
	a, klA, pa := record(t, false, netfixture.Pcap)
	b, klB, pb := record(t, true, netfixture.Pcap)
	keylog := append(append([]byte(nil), klA...), klB...)
	cut := countFrames(t, a) / 3
	cutA, err := netfixture.Rotate(a, cut)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		first []byte
		rowsA int // requests of the first file seen whole
	}{{"closed", a, len(pa)}, {"cut", cutA[0], -1}} {
		t.Run(tc.name, func(t *testing.T) {
			res, bodies := buildFiles(t, []string{"a.pcap", "b.pcap"}, [][]byte{tc.first, b}, keylog)
			var inA, inB []requests.Row
			for _, r := range res.Rows {
				if r.Input == "a.pcap" {
					inA = append(inA, r)
				} else {
					inB = append(inB, r)
				}
			}
			if tc.rowsA >= 0 && len(inA) != tc.rowsA || len(inA) == 0 || len(inB) != len(pb) {
				t.Fatalf("%d rows in a.pcap, %d in b.pcap, want %d and %d; notes %v", len(inA), len(inB), tc.rowsA, len(pb), res.Notes)
			}
			for i, r := range inA {
				if r.Method != pa[i].method || !strings.HasSuffix(r.URL, pa[i].path) {
					t.Errorf("a.pcap row %d: %s %s, want %s %s", i, r.Method, r.URL, pa[i].method, pa[i].path)
				}
				if r.Request.Complete && r.Request.SHA256 != hexSum(pa[i].req) {
					t.Errorf("a.pcap row %d: request body %s", i, r.Request.SHA256)
				}
			}
			for i, r := range inB {
				s := pb[i]
				if r.Method != s.method || !strings.HasSuffix(r.URL, s.path) || r.Protocol != "h2" || r.Flow == inA[0].Flow {
					t.Errorf("b.pcap row %d: %s %s %s flow %s, want %s %s h2 on a flow of its own", i, r.Method, r.URL, r.Protocol, r.Flow, s.method, s.path)
				}
				if r.Request.SHA256 != hexSum(s.req) || r.Response == nil || r.Response.SHA256 != hexSum(s.resp) || !bytes.Equal(bodies[r.ID+" server-to-client"], s.resp) {
					t.Errorf("b.pcap row %d: bodies differ from what was sent", i)
				}
			}
			for _, n := range res.Notes {
				if strings.HasPrefix(string(n.Code), "tls-") {
					t.Errorf("note %s", n.Line())
				}
			}
		})
	}
}

// countFrames counts the frames of a pcap capture.
func countFrames(t *testing.T, capture []byte) int {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			return n
		}
		n++
	}
}

// A real HTTP/3 connection (quic-go, decrypted with its key log) split between two and three
// rotated files, once in the middle of an upload's datagrams: the QUIC connection's keys and
// streams carry on (the QUIC layer is a decoders.Continuer too), and the rows are those of the
// single capture, bodies byte for byte, each naming the file and frame where its stream began.
func TestHTTP3AcrossRotatedCaptures(t *testing.T) {
	var kl bytes.Buffer
	up := page(300_000)
	chunks, err := netfixture.HTTP3Session(t.Context(), netfixture.HTTP3Options{ServerName: "h3.example.test", KeyLog: &kl,
		Requests: []netfixture.HTTP3Request{{Method: "GET", Path: "/a"}, {Method: "POST", Path: "/upload", Body: up}, {Method: "GET", Path: "/b"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err := netfixture.WriteDatagrams(w, chunks); err != nil {
		t.Fatal(err)
	}
	w.Close()
	capture := buf.Bytes()
	layer := func() decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return quic.NewLayer(keys)
	}
	ref, refBodies := buildWith(t, []string{"whole.pcap"}, [][]byte{capture}, layer())
	if len(ref.Rows) != 3 || ref.Rows[1].Request.SHA256 != hexSum(up) {
		t.Fatalf("single capture: %d rows", len(ref.Rows))
	}
	n := countFrames(t, capture)
	for _, cuts := range [][]int{{n / 2}, {n / 3, 2 * n / 3}} {
		files, err := netfixture.Rotate(capture, cuts...)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i := range files {
			names = append(names, "h3_0000"+string(rune('1'+i))+".pcap")
		}
		res, bodies := buildWith(t, names, files, layer())
		compareRotated(t, ref, refBodies, res, bodies, names, files, cuts)
		for _, n := range res.Notes {
			if n.Code == decoders.CodeUndecrypted {
				t.Errorf("note %s", n.Line())
			}
		}
	}
}

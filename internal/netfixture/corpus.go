package netfixture

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"testing"

	"droneaudit/capture"
	"droneaudit/internal/corpus"
)

// Payload is one transport payload of a real capture.
type Payload struct {
	Frame   int
	Proto   uint8
	Src     string
	Dst     string
	Payload []byte
}

// CorpusPayloads reads a capture of the shared real-sample corpus in place (skipping the test
// when the corpus is absent) and returns its TCP and UDP payloads, so naming decoders can be
// run on real traffic.
func CorpusPayloads(t testing.TB, rel string) []Payload {
	t.Helper()
	f, err := os.Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(bufio.NewReader(f), rel)
	if err != nil {
		t.Fatal(err)
	}
	nd := capture.NewNetDecoder()
	var out []Payload
	for {
		p, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		tr, ok, _ := nd.Decode(p)
		if ok && len(tr.Payload) > 0 {
			out = append(out, Payload{Frame: p.Frame, Proto: uint8(tr.Proto), Src: tr.Src.String(), Dst: tr.Dst.String(), Payload: append([]byte(nil), tr.Payload...)})
		}
	}
}

// CorpusCaptures are the IP captures of the shared corpus: real MAVLink traffic over TCP and
// UDP, which no naming decoder may mistake for its protocol.
var CorpusCaptures = []string{"mavlink/command_long_over_tcp.pcapng", "mavlink/gps_raw_int.pcapng", "mavlink/mission_item_int.pcapng"}

// CorpusPayloadSeeds returns the TCP and UDP payloads of the corpus captures (at most max of
// them, those that keep accepts), as fuzz seeds for the protocol decoders: real traffic bytes.
// Without the corpus it returns nothing and the target runs on its generated seeds.
func CorpusPayloadSeeds(max int, keep func([]byte) bool) [][]byte {
	var out [][]byte
	for _, data := range corpus.CaptureSeeds() {
		rd, err := capture.NewReader(bytes.NewReader(data), "seed")
		if err != nil {
			continue
		}
		nd := capture.NewNetDecoder()
		for len(out) < max {
			p, err := rd.Next()
			if err != nil {
				break
			}
			if tr, ok, _ := nd.Decode(p); ok && len(tr.Payload) > 0 && (keep == nil || keep(tr.Payload)) {
				out = append(out, append([]byte(nil), tr.Payload...))
			}
		}
	}
	return out
}

// CorpusFrameSeeds returns the link-layer frames of the corpus captures whose link type keep
// accepts (at most max), as fuzz seeds for frame decoders such as 802.11 and Remote ID.
func CorpusFrameSeeds(max int, keep func(capture.LinkType) bool) [][]byte {
	var out [][]byte
	for _, data := range corpus.CaptureSeeds() {
		rd, err := capture.NewReader(bytes.NewReader(data), "seed")
		if err != nil {
			continue
		}
		for len(out) < max {
			p, err := rd.Next()
			if err != nil {
				break
			}
			if keep(p.LinkType) {
				out = append(out, append([]byte(nil), p.Data...))
			}
		}
	}
	return out
}

// CorpusNotRead runs read on every TCP and UDP payload of the IP captures of the shared corpus
// (MAVLink over TCP and UDP, per MANIFEST.tsv) and fails the test for each payload read claims
// as protocol proto: none of them is, so a decoder that finds something there gives false
// positives. read returns what it found, for the message, and whether it claims the payload.
func CorpusNotRead(t *testing.T, proto string, read func(payload []byte) (found any, claimed bool)) {
	t.Helper()
	n := 0
	for _, rel := range CorpusCaptures {
		for _, p := range CorpusPayloads(t, rel) {
			n++
			if found, claimed := read(p.Payload); claimed {
				t.Errorf("%s frame %d: MAVLink read as %s: %+v", rel, p.Frame, proto, found)
			}
		}
	}
	if n == 0 {
		t.Fatal("no payloads read from the corpus captures")
	}
}

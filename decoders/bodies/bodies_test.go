package bodies

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"mime/multipart"
	"net/netip"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/dataflash"
	"droneaudit/decoders/decodertest"
	"droneaudit/decoders/exif/exiftest"
	"droneaudit/decoders/httpbody"
	"droneaudit/geo"
	"droneaudit/internal/dfgen"
	"droneaudit/netflow"
)

// searchSink records what Decode hands the known-value search besides the fixes.
type searchSink struct {
	decodertest.Sink
	searched [][]byte
}

func (s *searchSink) SearchDecoded(ev geo.Evidence, b []byte) {
	s.searched = append(s.searched, bytes.Clone(b))
}

func evidence() geo.Evidence {
	return geo.Evidence{Input: "up.pcap", Locator: "frame 9", Offset: 1234, Decoder: "http", Channel: geo.ChannelNetwork, Message: "POST /upload",
		Network: &geo.Network{FlowUID: "Cabc-tls", Proto: netflow.TCP, Src: netip.MustParseAddrPort("192.168.1.20:40000"),
			Dst: netip.MustParseAddrPort("203.0.113.7:443"), Direction: netflow.ClientToServer},
		Request: &geo.Request{ID: "Cabc-tls#1", Method: "POST", URL: "https://x.test/upload"}}
}

// A multipart upload of a DataFlash log and a GPS JPEG: two objects, named and hashed; the log is
// decoded by the file decoder into network fixes carrying the request, with the offset in the
// object in their locator; the picture's EXIF is a fix; nothing is searched again (the parts
// travelled as they are).
func TestMultipartUpload(t *testing.T) {
	var df bytes.Buffer
	dfgen.Write(&df, 20_000)
	jpg := exiftest.Image(t, exiftest.GPSSegment(50.8503, 4.3517, 12, binary.BigEndian))
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	w, _ := mw.CreateFormFile("log", "00000001.BIN")
	w.Write(df.Bytes())
	w, _ = mw.CreateFormFile("photo", "DJI_0001.JPG")
	w.Write(jpg)
	mw.Close()
	o := Open(mw.FormDataContentType(), "", mp.Bytes(), httpbody.Options{}, "")
	if len(o.Objects) != 2 || o.Objects[0].Size != int64(df.Len()) || o.Objects[1].Kind != "jpeg" || o.Objects[0].Recoded {
		t.Fatalf("objects %+v", o.Objects)
	}
	if s := o.Summary(); !strings.HasPrefix(s, "multipart 2 parts: ") || !strings.Contains(s, "jpeg") {
		t.Errorf("summary %q", s)
	}
	sink := &searchSink{}
	o.Decode(t.Context(), Config{Files: []decoders.FileDecoder{dataflash.New()}}, evidence(), sink)
	var df1, photo int
	for _, f := range sink.Fixes {
		ev := f.Evidence
		if ev.Channel != geo.ChannelNetwork || ev.Request == nil || ev.Request.ID != "Cabc-tls#1" || ev.Input != "up.pcap" || ev.Offset != 1234 {
			t.Fatalf("evidence %+v", ev)
		}
		switch ev.Decoder {
		case "dataflash":
			df1++
			if !strings.Contains(ev.Locator, `part 1 name="log"`) || !strings.Contains(ev.Locator, "object byte") {
				t.Errorf("locator %q", ev.Locator)
			}
		case "http":
			photo++
			if f.Lat < 50.85 || f.Lat > 50.851 {
				t.Errorf("photo fix %+v", f)
			}
		}
	}
	if df1 == 0 || photo != 1 || len(sink.searched) != 0 {
		t.Errorf("dataflash fixes %d, photo %d, searched %d", df1, photo, len(sink.searched))
	}
}

// A gzip'd body is opened: its JSON positions come out, its decoded bytes go to the search, and
// the summary names the coding.
func TestGzipJSON(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"latitude":51.16,"longitude":5.47}`))
	zw.Close()
	o := Open("application/json", "gzip", gz.Bytes(), httpbody.Options{}, "")
	if s := o.Summary(); s != "gzip → json 35 B" {
		t.Errorf("summary %q", s)
	}
	sink := &searchSink{}
	o.Decode(t.Context(), Config{}, evidence(), sink)
	if len(sink.Fixes) != 1 || sink.Fixes[0].Lat != 51.16 || len(sink.searched) != 1 {
		t.Errorf("fixes %+v, searched %d", sink.Fixes, len(sink.searched))
	}
}

// FuzzOpenDecode: any body under any header is opened and decoded without a panic, and every fix
// keeps the message's evidence.
func FuzzOpenDecode(f *testing.F) {
	f.Add("multipart/form-data; boundary=x", "", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{\"lat\":1,\"lng\":2}\r\n--x--"))
	f.Add("application/json", "gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add("application/x-www-form-urlencoded", "", []byte("lat=47.3&lng=8.5"))
	f.Add("image/jpeg", "", exiftest.Tiny(exiftest.GPSSegment(1, 2, 3, binary.LittleEndian)))
	var df bytes.Buffer
	dfgen.Write(&df, 2000)
	f.Add("application/octet-stream", "", df.Bytes())
	files := []decoders.FileDecoder{dataflash.New()}
	f.Fuzz(func(t *testing.T, ct, ce string, body []byte) {
		if len(body) > decodertest.MaxFuzzInput {
			return
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("HANG ct=%q ce=%q body=%q", ct, ce, body[:min(len(body), 200)]))
			}
		}()
		o := Open(ct, ce, body, httpbody.Options{}, "")
		_ = o.Summary()
		sink := &searchSink{}
		o.Decode(t.Context(), Config{Files: files}, evidence(), sink)
		for _, fx := range sink.Fixes {
			if fx.Evidence.Request == nil || fx.Evidence.Input != "up.pcap" {
				t.Fatalf("evidence %+v", fx.Evidence)
			}
		}
	})
}

// FuzzContentTypeKind checks that the holdsFold filter in front of httpbody.IsMultipart and
// httpbody.IsForm never turns a yes into a no.
func FuzzContentTypeKind(f *testing.F) {
	for _, s := range []string{"application/json", "Multipart/Form-Data; boundary=x", "APPLICATION/X-WWW-FORM-URLENCODED",
		" multipart/mixed ;boundary=\"a b\"", "application/x-www-form-urlencoded; charset=utf-8", "multipart/", "text/plain; a=b; a=c",
		"\u212aultipart/x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		if httpbody.IsMultipart(ct) && !holdsFold(ct, "multipart/") {
			t.Fatalf("%q is multipart, holdsFold says no", ct)
		}
		if httpbody.IsForm(ct) && !holdsFold(ct, "x-www-form-urlencoded") {
			t.Fatalf("%q is a form, holdsFold says no", ct)
		}
	})
}

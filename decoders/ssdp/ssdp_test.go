package ssdp

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// notify writes a NOTIFY ssdp:alive with net/http's request writer, as a camera's UPnP stack
// sends it.
func notify(t testing.TB) []byte {
	t.Helper()
	req := &http.Request{Method: "NOTIFY", URL: &url.URL{Opaque: "*"}, Host: "239.255.255.250:1900", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"User-Agent":    {""}, // no Go-http-client/1.1
			"Cache-Control": {"max-age=1800"},
			"Location":      {"http://192.168.50.64:49152/description.xml"},
			"Nt":            {"urn:schemas-upnp-org:device:Basic:1"},
			"Nts":           {"ssdp:alive"},
			"Server":        {"Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82"},
			"Usn":           {"uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc::urn:schemas-upnp-org:device:Basic:1"},
		}}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// answer writes an M-SEARCH answer with net/http's response writer.
func answer(t testing.TB) []byte {
	t.Helper()
	resp := &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, ContentLength: 0,
		Header: http.Header{
			"Cache-Control": {"max-age=120"},
			"Ext":           {""},
			"Location":      {"http://192.168.50.108:80/upnp/device.xml"},
			"Server":        {"Linux, UPnP/1.0, Dahua/2.800"},
			"St":            {"upnp:rootdevice"},
			"Usn":           {"uuid:Upnp-DHNVR-1_0-6c1c71112233::upnp:rootdevice"},
		}}
	var b bytes.Buffer
	if err := resp.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParse(t *testing.T) {
	search := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\nUSER-AGENT: Android/14 UPnP/1.1 DJI-Fly/1.14\r\n\r\n")
	for _, c := range []struct {
		name string
		b    []byte
		want Message
		uuid string
	}{
		{"notify", notify(t), Message{Kind: Notify, NT: "urn:schemas-upnp-org:device:Basic:1", NTS: "ssdp:alive",
			USN: "uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc::urn:schemas-upnp-org:device:Basic:1", Location: "http://192.168.50.64:49152/description.xml",
			Server: "Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82"}, "a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc"},
		{"answer", answer(t), Message{Kind: Response, ST: "upnp:rootdevice", USN: "uuid:Upnp-DHNVR-1_0-6c1c71112233::upnp:rootdevice",
			Location: "http://192.168.50.108:80/upnp/device.xml", Server: "Linux, UPnP/1.0, Dahua/2.800"}, "upnp-dhnvr-1_0-6c1c71112233"},
		{"search", search, Message{Kind: Search, ST: "ssdp:all", UserAgent: "Android/14 UPnP/1.1 DJI-Fly/1.14"}, ""},
	} {
		if !LooksLike(c.b) {
			t.Errorf("%s: LooksLike false", c.name)
		}
		m, err := Parse(c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := *m
		got.Headers = nil
		if !reflect.DeepEqual(got, c.want) || m.UUID() != c.uuid {
			t.Errorf("%s:\n got %+v %q\nwant %+v %q", c.name, got, m.UUID(), c.want, c.uuid)
		}
	}
	m, _ := Parse(search)
	if m.Get("man") != `"ssdp:discover"` || m.Get("mx") != "2" || m.Type() != "ssdp:all" || len(m.Headers) != 5 {
		t.Errorf("headers %+v", m.Headers)
	}
}

func TestNotSSDP(t *testing.T) {
	for _, b := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"), // no ST/USN: not SSDP
		{0, 0, 0x84, 0, 0, 0, 0, 1},
		[]byte("NOTIFY"),
	} {
		if LooksLike(b) {
			t.Errorf("%q taken for SSDP", b)
		}
		if _, err := Parse(b); err == nil {
			t.Errorf("%q parsed", b)
		}
	}
	// Bare line feeds, a line without a colon, control characters and no end of head.
	m, err := Parse([]byte("NOTIFY * HTTP/1.1\nNT: upnp:rootdevice\nnonsense\nSERVER: a\x01b"))
	if err != nil || m.NT != "upnp:rootdevice" || m.Server != "ab" || len(m.Headers) != 2 {
		t.Errorf("%+v %v", m, err)
	}
	many := []byte("NOTIFY * HTTP/1.1\r\n" + string(bytes.Repeat([]byte("X: y\r\n"), 100)))
	if m, err := Parse(many); err == nil || len(m.Headers) != maxHeaders {
		t.Errorf("100 headers: %d, %v", len(m.Headers), err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(notify(f))
	f.Add(answer(f))
	f.Add([]byte("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil without error")
		}
		if m != nil && len(m.Headers) > maxHeaders {
			t.Fatalf("%d headers", len(m.Headers))
		}
		LooksLike(b)
	})
}

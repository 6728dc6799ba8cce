package dahuap2p

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// request writes a DH request as dh-p2p's UDP.request does: request line, CSeq, WSSE headers.
func request(method, path, body string) []byte {
	s := fmt.Sprintf("%s %s HTTP/1.1\r\nCSeq: 1\r\nAuthorization: WSSE profile=\"UsernameToken\"\r\n", method, path)
	if body != "" {
		s += fmt.Sprintf("Content-Type: \r\nContent-Length: %d\r\n", len(body))
	}
	return []byte(s + "\r\n" + body)
}

// ptcp writes a PTCP frame header and body.
func ptcp(body []byte) []byte {
	b := []byte("PTCP")
	for _, v := range []uint32{0, 0, 0x0002ffff, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, body...)
}

func TestRecognise(t *testing.T) {
	for _, c := range []struct {
		b      []byte
		ok     bool
		serial string
	}{
		{request("DHGET", "/probe/p2psrv", ""), true, ""},
		{request("DHGET", "/online/p2psrv/6C0A1B2PAZ12345", ""), true, "6C0A1B2PAZ12345"},
		{request("DHPOST", "/device/6C0A1B2PAZ12345/p2p-channel", "<body></body>"), true, "6C0A1B2PAZ12345"},
		{request("DHGET", "/probe/device/6C0A1B2PAZ12345", ""), true, "6C0A1B2PAZ12345"},
		{ptcp([]byte{0, 3, 1, 0}), true, ""},
		{[]byte("GET / HTTP/1.1\r\n\r\n"), false, ""},
		{[]byte("DHGET nothing"), false, ""},
		{[]byte("PTCP"), false, ""},
	} {
		if got := LooksLike(c.b); got != c.ok {
			t.Errorf("%q: LooksLike %v", c.b, got)
		}
		if c.b[0] != 'D' || !c.ok {
			continue
		}
		r, err := ParseRequest(c.b)
		if err != nil || r.Serial != c.serial {
			t.Errorf("%q: %+v %v", c.b, r, err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(request("DHGET", "/online/p2psrv/6C0A1B2PAZ12345", ""))
	f.Add(ptcp(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err == nil && (r == nil || r.Path == "") {
			t.Fatalf("%+v", r)
		}
		LooksLike(b)
	})
}

package hikcloud

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// vtm writes a VTM packet as protocol.md lays it out: 0x24, channel, body length, sequence and
// message code, all big endian, then the body.
func vtm(channel byte, seq, code uint16, body []byte) []byte {
	b := []byte{vtmMagic, channel}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint16(b, code)
	return append(b, body...)
}

// pbString writes a protobuf length-delimited field (protobuf.dev encoding guide): key
// field<<3|2, varint length, bytes.
func pbString(field int, s string) []byte {
	b := []byte{byte(field<<3 | 2)}
	n := len(s)
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(append(b, byte(n)), s...)
}

// streamURL is a ysproto URL with the parameters client/streamurl.go builds.
func streamURL(pad int) string {
	return "ysproto://47.91.88.200:8554/live?dev=BD1234567&chn=1&stream=1&cln=9&isp=0&auth=1&ssn=" +
		strings.Repeat("t", pad) + "&biz=4&vip=0&timestamp=1733533200000"
}

func TestVTM(t *testing.T) {
	short := append(pbString(1, streamURL(0)), pbString(2, "key")...)
	long := append(pbString(1, streamURL(200)), pbString(4, "*k")...) // a two-byte length; a key byte ('"'…'*') that is a URL character
	keepalive := pbString(1, "ssn-0001")
	for _, c := range []struct {
		name   string
		b      []byte
		looks  bool
		code   string
		device string
		url    string
	}{
		{"StreamInfoReq", vtm(ChanMessage, 0, 0x13b, short), true, "StreamInfoReq", "BD1234567", streamURL(0)},
		{"StreamInfoReq, long URL", vtm(ChanMessage, 1, 0x13b, long), true, "StreamInfoReq", "BD1234567", streamURL(200)},
		{"KeepaliveReq then stream", append(vtm(ChanMessage, 2, 0x132, keepalive), vtm(ChanStream, 3, 0, []byte{0, 0, 1, 0xba})...), true, "KeepaliveReq", "", ""},
		{"StreamInfoRsp cut short", vtm(ChanMessage, 0, 0x13c, short)[:20], false, "StreamInfoRsp", "", "ysproto://"},
		{"unknown code", vtm(ChanMessage, 0, 0x200, short), false, "", "BD1234567", streamURL(0)},
		{"stream channel", vtm(ChanStream, 0, 0x13b, short), false, "", "", ""},
		{"encrypted message", vtm(ChanEncryptedMessage, 0, 0x13b, short), false, "", "", ""},
		{"body no protobuf", vtm(ChanMessage, 0, 0x13b, []byte{0xff, 0xff}), false, "StreamInfoReq", "", ""},
		// RTSP interleaved RTP (RFC 2326 §10.12, RFC 3550 §5.1): '$', channel 0, length, then
		// version 2 in the top bits of byte 4.
		{"RTSP interleaved RTP", vtm(ChanMessage, 0x8060, 0x13b, []byte{0x0a, 0, 0, 0}), false, "StreamInfoReq", "", ""},
		{"trailing garbage", append(vtm(ChanMessage, 0, 0x13b, short), 0), false, "StreamInfoReq", "BD1234567", streamURL(0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := LooksLikeVTM(c.b); got != c.looks {
				t.Errorf("LooksLikeVTM %v, want %v", got, c.looks)
			}
			m, err := ParseVTM(c.b)
			if err != nil {
				t.Fatal(err)
			}
			if m.Channel == ChanMessage && (m.CodeName != c.code || m.Device != c.device || m.StreamURL != c.url) {
				t.Errorf("%+v, want code %q device %q url %q", m, c.code, c.device, c.url)
			}
		})
	}
	for _, b := range [][]byte{nil, {0x24}, []byte("$\x05\x00\x00\x00\x00\x01\x3b"), []byte("RTSP/1.0 200 OK\r\n")} {
		if _, err := ParseVTM(b); err == nil {
			t.Errorf("%q parsed", b)
		}
	}
	if _, err := ParseVTM(nil); err == nil || !strings.Contains(err.Error(), "offset 0") {
		t.Errorf("error %v does not name the offset", err)
	}
}

// ehomeMessage writes an EHome 2.0 request as the captured REGISTER and KEEPALIVE messages show
// it (www.365seal.com/y/xPnQMrWlnK.html).
func ehomeMessage(command, params string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="GB2312"?>
<PPVSPMessage>
    <Version>2.0</Version>
    <Sequence>21910</Sequence>
    <CommandType>REQUEST</CommandType>
    <Command>%s</Command>
    <Params>%s</Params>
</PPVSPMessage>
`, command, params))
}

const registerParams = `<NetUnitType>PU</NetUnitType><DeviceID>560796072</DeviceID>
<FirmwareVersion>V5.4.5 build 170302</FirmwareVersion><LocalIP>192.168.1.100</LocalIP>
<LocalPort>9486</LocalPort><DevType>31</DevType><Manufacture>0</Manufacture>`

func TestEHome(t *testing.T) {
	reg, err := ParseEHome(ehomeMessage("REGISTER", registerParams))
	if err != nil {
		t.Fatal(err)
	}
	want := EHomeMessage{Version: "2.0", Sequence: "21910", CommandType: "REQUEST", Command: "REGISTER",
		DeviceID: "560796072", Firmware: "V5.4.5 build 170302", LocalIP: "192.168.1.100"}
	if *reg != want {
		t.Errorf("%+v", reg)
	}
	ka, err := ParseEHome(ehomeMessage("KEEPALIVE", "<DeviceID>560796072</DeviceID>"))
	if err != nil || ka.Command != "KEEPALIVE" || ka.DeviceID != "560796072" {
		t.Errorf("%+v %v", ka, err)
	}
	rsp := `<?xml version="1.0" encoding="GB2312" ?><PPVSPMessage><Version>2.5</Version><Sequence>21910</Sequence>` +
		`<CommandType>RESPONSE</CommandType><Method>REGISTER</Method><WhichCommand>REGISTER</WhichCommand><Status>200</Status></PPVSPMessage>`
	r, err := ParseEHome([]byte(rsp))
	if err != nil || r.Command != "REGISTER" || r.CommandType != "RESPONSE" || r.DeviceID != "" {
		t.Errorf("%+v %v", r, err)
	}
	// A value with markup inside, or longer than the bound, is left empty.
	odd, err := ParseEHome(ehomeMessage("REG<x/>ISTER", "<DeviceID>"+strings.Repeat("9", maxValue+1)+"</DeviceID>"))
	if err != nil || odd.Command != "" || odd.DeviceID != "" {
		t.Errorf("%+v %v", odd, err)
	}
	for _, b := range []string{
		"",
		"<PPVSPMessage><Version>2.0</Version></PPVSPMessage>",                 // no declaration
		`<?xml version="1.0"?><Envelope>PPVSPMessage</Envelope>`,              // no root element
		`<?xml version="1.0"?>` + strings.Repeat(" ", 300) + "<PPVSPMessage>", // root beyond the window
		"GET / HTTP/1.1\r\n\r\n",
	} {
		if LooksLikeEHome([]byte(b)) {
			t.Errorf("%q looks like EHome", b)
		}
		if _, err := ParseEHome([]byte(b)); err == nil {
			t.Errorf("%q parsed", b)
		}
	}
}

func FuzzVTM(f *testing.F) {
	f.Add(vtm(ChanMessage, 0, 0x13b, pbString(1, streamURL(0))))
	f.Add(vtm(ChanMessage, 0, 0x13b, pbString(1, streamURL(300))))
	f.Add(vtm(ChanEncryptedStream, 9, 0, []byte{1, 2, 3}))
	f.Add([]byte("$\x00\x00\x0cysproto://"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseVTM(b)
		if err == nil && (m == nil || len(m.StreamURL) > maxURL) {
			t.Fatalf("%+v", m)
		}
		if LooksLikeVTM(b) && (err != nil || m.CodeName == "") {
			t.Fatalf("claimed but not parsed: %+v %v", m, err)
		}
	})
}

func FuzzEHome(f *testing.F) {
	f.Add(ehomeMessage("REGISTER", registerParams))
	f.Add(ehomeMessage("KEEPALIVE", "<DeviceID>1</DeviceID>"))
	f.Add([]byte(`<?xml?><PPVSPMessage><Command>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseEHome(b)
		if (err == nil) != LooksLikeEHome(b) {
			t.Fatalf("ParseEHome %v, LooksLikeEHome %v", err, LooksLikeEHome(b))
		}
		if err == nil && (len(m.DeviceID) > maxValue || len(m.Command) > maxValue) {
			t.Fatalf("%+v", m)
		}
	})
}

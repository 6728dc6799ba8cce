package wsdiscovery

import (
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
)

// The envelope as encoding/xml writes it from structs: every element in its namespace by a
// default-namespace declaration, no prefixes (an encoder independent of the parser under test).
type envelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  header   `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    body     `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type header struct {
	MessageID string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	RelatesTo string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing RelatesTo,omitempty"`
	Action    string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
}

type body struct {
	ProbeMatches *probeMatches `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery ProbeMatches,omitempty"`
}

type probeMatches struct {
	Match []probeMatch `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery ProbeMatch"`
}

type probeMatch struct {
	Address         string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing EndpointReference>Address"`
	Types           string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Types"`
	Scopes          string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Scopes"`
	XAddrs          string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery XAddrs"`
	MetadataVersion int    `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery MetadataVersion"`
}

const hikScopes = "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming " +
	"onvif://www.onvif.org/MAC/44:47:cc:aa:bb:cc onvif://www.onvif.org/hardware/DS-2CD2143G0-I " +
	"onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G0-I onvif://www.onvif.org/location/city/hangzhou " +
	"onvif://www.onvif.org/firmware/V5.5.82"

func marshalled(t testing.TB) []byte {
	t.Helper()
	e := envelope{
		Header: header{MessageID: "uuid:c0ffee00-0000-4000-8000-4447ccaabbcc", RelatesTo: "uuid:0a0b0c0d-1111-4222-8333-444455556666",
			Action: "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"},
		Body: body{ProbeMatches: &probeMatches{Match: []probeMatch{{
			Address: "urn:uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc", Types: "dn:NetworkVideoTransmitter tds:Device",
			Scopes: hikScopes, XAddrs: "http://192.168.50.64/onvif/device_service http://[fe80::4647:ccff:feaa:bbcc]/onvif/device_service",
			MetadataVersion: 10}}}},
	}
	b, err := xml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(xml.Header), b...)
}

// dahuaHello is a Hello as devices write it: prefixes, a UTF-8 declaration in lower case, and
// WS-Discovery 1.1's namespace.
const dahuaHello = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">
<s:Header><a:MessageID>urn:uuid:1234</a:MessageID><a:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</a:Action></s:Header>
<s:Body><d:Hello><a:EndpointReference><a:Address>uuid:a1b2c3d4-0000-0000-0000-6c1c71112233</a:Address></a:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter</d:Types>
<d:Scopes>onvif://www.onvif.org/location/country/china onvif://www.onvif.org/name/Dahua onvif://www.onvif.org/hardware/DHI-NVR4208-8P-4KS2 onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/type/Network_Video_Storage onvif://www.onvif.org/Profile/G</d:Scopes>
<d:XAddrs>http://192.168.50.108/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:Hello></s:Body></s:Envelope>`

func TestProbeMatches(t *testing.T) {
	b := marshalled(t)
	if !LooksLike(b) {
		t.Fatal("LooksLike false")
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Action != ProbeMatches || m.MessageID != "uuid:c0ffee00-0000-4000-8000-4447ccaabbcc" || m.RelatesTo != "uuid:0a0b0c0d-1111-4222-8333-444455556666" || len(m.Matches) != 1 {
		t.Fatalf("%+v", m)
	}
	x := m.Matches[0]
	if x.Address != "urn:uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc" || !slices.Equal(x.Types, []string{"dn:NetworkVideoTransmitter", "tds:Device"}) ||
		len(x.Scopes) != 7 || len(x.XAddrs) != 2 || x.MetadataVersion != "10" {
		t.Fatalf("%+v", x)
	}
	o, ok := x.ONVIF()
	want := ONVIF{Types: []string{"NetworkVideoTransmitter", "Device", "video_encoder"}, Hardware: "DS-2CD2143G0-I", Name: "HIKVISION DS-2CD2143G0-I",
		Location: []string{"city/hangzhou"}, Profiles: []string{"Streaming"}, MAC: "44:47:cc:aa:bb:cc", Firmware: "V5.5.82"}
	if !ok || !slices.Equal(o.Types, want.Types) || o.Hardware != want.Hardware || o.Name != want.Name || !slices.Equal(o.Location, want.Location) ||
		!slices.Equal(o.Profiles, want.Profiles) || o.MAC != want.MAC || o.Firmware != want.Firmware {
		t.Errorf("onvif %+v\nwant %+v", o, want)
	}
}

func TestHelloWithPrefixes(t *testing.T) {
	if !LooksLike([]byte(dahuaHello)) {
		t.Fatal("LooksLike false")
	}
	m, err := Parse([]byte(dahuaHello))
	if err != nil {
		t.Fatal(err)
	}
	if m.Action != Hello || m.MessageID != "urn:uuid:1234" || len(m.Matches) != 1 {
		t.Fatalf("%+v", m)
	}
	o, ok := m.Matches[0].ONVIF()
	if !ok || o.Hardware != "DHI-NVR4208-8P-4KS2" || o.Name != "Dahua" || !slices.Equal(o.Types, []string{"NetworkVideoTransmitter", "Network_Video_Storage"}) ||
		m.Matches[0].XAddrs[0] != "http://192.168.50.108/onvif/device_service" {
		t.Errorf("%+v %+v", m.Matches[0], o)
	}
}

func TestProbeIsNoDevice(t *testing.T) {
	probe := `<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Header/><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>`
	m, err := Parse([]byte(probe))
	if err != nil || m.Action != Probe || len(m.Matches) != 1 || m.Matches[0].Address != "" || m.Matches[0].Types[0] != "dn:NetworkVideoTransmitter" {
		t.Fatalf("%+v %v", m, err)
	}
	if _, ok := (&Match{Scopes: []string{"ldap:///ou=x"}}).ONVIF(); ok {
		t.Error("non-ONVIF scope taken for ONVIF")
	}
}

func TestBounds(t *testing.T) {
	deep := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:Hello>` +
		strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</d:Hello></s:Body></s:Envelope>`
	m, err := Parse([]byte(deep))
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Reason, "deeper") || m == nil || m.Action != Hello {
		t.Errorf("deep: %+v %v", m, err)
	}
	many := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:ProbeMatches xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">` +
		strings.Repeat("<d:ProbeMatch><d:Scopes>"+strings.Repeat("onvif://www.onvif.org/x ", 70)+"</d:Scopes></d:ProbeMatch>", 20) + `</d:ProbeMatches></s:Body></s:Envelope>`
	m, err = Parse([]byte(many))
	if err != nil || len(m.Matches) != maxMatches || len(m.Matches[0].Scopes) != maxList {
		t.Errorf("many: %d matches, %v", len(m.Matches), err)
	}
	cut := marshalled(t)
	m, err = Parse(cut[:len(cut)/2])
	if err == nil {
		t.Errorf("cut: no error, %+v", m)
	}
	for _, b := range []string{"", "<a/>", "NOTIFY * HTTP/1.1\r\n", `<Envelope><Body></Body>`, "<s:Envelope><s:Body><x></y></s:Body></s:Envelope>"} {
		if _, err := Parse([]byte(b)); err == nil {
			t.Errorf("%q parsed", b)
		}
	}
	if LooksLike([]byte("<html><body>Envelope</body></html>")) {
		t.Error("HTML taken for WS-Discovery")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(marshalled(f))
	f.Add([]byte(dahuaHello))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil without error")
		}
		if m != nil {
			if len(m.Matches) > maxMatches {
				t.Fatalf("%d matches", len(m.Matches))
			}
			for i := range m.Matches {
				m.Matches[i].ONVIF()
			}
		}
		LooksLike(b)
	})
}

func BenchmarkParse(b *testing.B) {
	msg := marshalled(b)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

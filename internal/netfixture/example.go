package netfixture

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
)

// GenerateExample writes the lab segment of GenerateSegment as an example that is the same
// byte for byte on every run (the embedded example of 'droneaudit devices'): the TLS sessions
// are a ClientHello and fixed server records rather than crypto/tls sessions, and the segment
// also carries what a Hik-Connect phone app does on it: a SADP search answered by the camera,
// and the fetch of the camera's UPnP device description from its SSDP LOCATION.
func GenerateExample(w *Writer) error {
	s := &seg{w: w, tls: map[SegmentFlow]*Totals{}, fixed: true}
	return s.run(append(s.steps(), s.sadpSearch, s.upnpDescription))
}

// ExampleCapture returns the lab segment example (GenerateExample) as a pcapng file.
func ExampleCapture() ([]byte, error) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Pcapng, nil)
	if err != nil {
		return nil, err
	}
	if err := GenerateExample(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fixedTLS is a TLS session to name as a ClientHello (HandClientHello), then a TLS 1.3
// ServerHello and an application data record of fixed bytes (RFC 8446 §4.1.3, §5.2): what the
// destination inventory reads of a session is its ClientHello.
func fixedTLS(name string) []Chunk {
	sh := []byte{0x03, 0x03}
	for i := range 32 {
		sh = append(sh, byte(i*7+1))
	}
	sh = append(sh, 0, 0x13, 0x01, 0) // no session id, TLS_AES_128_GCM_SHA256, no compression
	sh = append(sh, 0, 6, 0x00, 0x2b, 0, 2, 0x03, 0x04)
	msg := append([]byte{2, 0, byte(len(sh) >> 8), byte(len(sh))}, sh...)
	rec := append([]byte{22, 3, 3, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	app := append([]byte{23, 3, 3, 1, 0}, bytes.Repeat([]byte{0x5a}, 256)...)
	return []Chunk{{FromClient: true, Data: HandClientHello(name, false)}, {FromClient: false, Data: append(rec, app...)},
		{FromClient: true, Data: app[:5+64]}}
}

// SADP (Hikvision's discovery protocol, see decoders/sadp) messages as encoding/xml writes them.
type sadpProbe struct {
	XMLName xml.Name `xml:"Probe"`
	Uuid    string
	Types   string
}

type sadpMatch struct {
	XMLName           xml.Name `xml:"ProbeMatch"`
	Uuid              string
	Types             string
	DeviceType        string
	DeviceDescription string
	DeviceSN          string
	CommandPort       int
	HttpPort          int
	MAC               string
	IPv4Address       string
	IPv4SubnetMask    string
	IPv4Gateway       string
	IPv6Address       string
	SoftwareVersion   string
	DSPVersion        string
	OEMInfo           string
	Activated         bool
}

// The camera's SADP identity.
const (
	CameraSerial   = "DS-2CD2143G0-I20190101AAWRC12345678"
	CameraSoftware = "V5.5.82build 190909"
	sadpUUID       = "8282F1DB-2FA6-4709-B261-3C6B6A48CA17"
)

// SADPProbe returns a SADP search as a SADP client sends it.
func SADPProbe() []byte {
	b, _ := xml.Marshal(sadpProbe{Uuid: sadpUUID, Types: "inquiry"}) // a fixed struct: cannot fail
	return append([]byte(`<?xml version="1.0" encoding="utf-8"?>`), b...)
}

// SADPProbeMatch returns the camera's answer to SADPProbe.
func SADPProbeMatch() []byte {
	b, _ := xml.MarshalIndent(sadpMatch{Uuid: sadpUUID, Types: "inquiry", DeviceType: "139", DeviceDescription: "DS-2CD2143G0-I",
		DeviceSN: CameraSerial, CommandPort: 8000, HttpPort: 80, MAC: "44-47-cc-aa-bb-cc", IPv4Address: SegCamera.IP.String(),
		IPv4SubnetMask: "255.255.255.0", IPv4Gateway: SegRouter.IP.String(), IPv6Address: SegCamera.IP6.String(),
		SoftwareVersion: CameraSoftware, DSPVersion: "V7.3, build 190830", OEMInfo: "N/A", Activated: true}, "", "    ")
	return append([]byte(`<?xml version="1.0" encoding="UTF-8" ?>`+"\n"), b...)
}

// sadpSearch writes the phone's SADP search and the camera's answer.
func (s *seg) sadpSearch() error {
	phone := netip.AddrPortFrom(SegPhone.IP, 37020)
	if err := s.w.UDP(phone, netip.AddrPortFrom(ssdpGroup4, 37020), SADPProbe()); err != nil {
		return err
	}
	return s.w.UDP(netip.AddrPortFrom(SegCamera.IP, 37020), phone, SADPProbeMatch())
}

// UPnP device description (UPnP Device Architecture 2.0 §2.3) as encoding/xml writes it.
type upnpRoot struct {
	XMLName     xml.Name `xml:"urn:schemas-upnp-org:device-1-0 root"`
	SpecVersion struct {
		Major int `xml:"major"`
		Minor int `xml:"minor"`
	} `xml:"specVersion"`
	Device upnpDevice `xml:"device"`
}

type upnpDevice struct {
	DeviceType   string       `xml:"deviceType"`
	FriendlyName string       `xml:"friendlyName"`
	Manufacturer string       `xml:"manufacturer"`
	ModelName    string       `xml:"modelName"`
	ModelNumber  string       `xml:"modelNumber"`
	SerialNumber string       `xml:"serialNumber"`
	UDN          string       `xml:"UDN"`
	DeviceList   []upnpDevice `xml:"deviceList>device,omitempty"`
}

// CameraDescriptionPath is where the camera serves its description (its SSDP LOCATION).
const CameraDescriptionPath = "/description.xml"

// CameraDescription returns the camera's UPnP device description, with an embedded device whose
// fields are not the camera's.
func CameraDescription() []byte {
	d := upnpRoot{Device: upnpDevice{DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: "Cam-Front",
		Manufacturer: "Hikvision", ModelName: "DS-2CD2143G0-I", ModelNumber: "DS-2CD2143G0-I", SerialNumber: CameraSerial,
		UDN:        "uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc",
		DeviceList: []upnpDevice{{DeviceType: "urn:schemas-upnp-org:device:MediaServer:1", FriendlyName: "embedded", ModelName: "other"}}}}
	d.SpecVersion.Major = 1
	b, _ := xml.MarshalIndent(d, "", " ") // a fixed struct: cannot fail
	return append([]byte(xml.Header), b...)
}

// upnpDescription writes the phone fetching the camera's description from its SSDP LOCATION
// (http://192.168.50.64:49152/description.xml) with net/http's request and response writers.
func (s *seg) upnpDescription() error {
	c, err := s.w.TCP(netip.AddrPortFrom(SegPhone.IP, 50200), netip.AddrPortFrom(SegCamera.IP, 49152))
	if err != nil {
		return err
	}
	req := &http.Request{Method: "GET", URL: &url.URL{Path: CameraDescriptionPath}, Host: "192.168.50.64:49152", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"User-Agent": {"Android/14 UPnP/1.1 Hik-Connect/5.3"}}}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return err
	}
	if err := c.Send(true, b.Bytes()); err != nil {
		return err
	}
	body := CameraDescription()
	resp := &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {`text/xml; charset="utf-8"`}, "Server": {"Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82"},
			"Content-Length": {strconv.Itoa(len(body))}},
		Body: io.NopCloser(bytes.NewReader(body))}
	b.Reset()
	if err := resp.Write(&b); err != nil {
		return err
	}
	if err := c.Send(false, b.Bytes()); err != nil {
		return err
	}
	return c.Close()
}

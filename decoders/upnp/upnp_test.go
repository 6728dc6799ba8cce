package upnp

import (
	"encoding/xml"
	"strings"
	"testing"
)

// description is a device description as encoding/xml writes it, in the layout of UPnP Device
// Architecture 2.0 §2.3, with an embedded device whose fields must not be taken for the root's.
type description struct {
	XMLName     xml.Name `xml:"urn:schemas-upnp-org:device-1-0 root"`
	SpecVersion struct {
		Major int `xml:"major"`
		Minor int `xml:"minor"`
	} `xml:"specVersion"`
	Device descDevice `xml:"device"`
}

type descDevice struct {
	DeviceType   string       `xml:"deviceType"`
	FriendlyName string       `xml:"friendlyName"`
	Manufacturer string       `xml:"manufacturer"`
	ModelName    string       `xml:"modelName"`
	ModelNumber  string       `xml:"modelNumber"`
	SerialNumber string       `xml:"serialNumber"`
	UDN          string       `xml:"UDN"`
	DeviceList   []descDevice `xml:"deviceList>device,omitempty"`
}

// generated returns a generated description of a camera.
func generated(t testing.TB) []byte {
	d := description{Device: descDevice{DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: "Cam-Front",
		Manufacturer: "Hikvision", ModelName: "DS-2CD2143G0-I", ModelNumber: "DS-2CD2143G0-I", SerialNumber: "DS-2CD2143G0-I20190101AAWRC12345678",
		UDN: "uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc",
		DeviceList: []descDevice{{DeviceType: "urn:schemas-upnp-org:device:MediaServer:1", FriendlyName: "embedded", ModelName: "other"}}}}
	d.SpecVersion.Major = 1
	b, err := xml.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(xml.Header), b...)
}

func TestParseDescription(t *testing.T) {
	dev, err := ParseDescription(generated(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Device{DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: "Cam-Front", Manufacturer: "Hikvision",
		ModelName: "DS-2CD2143G0-I", ModelNumber: "DS-2CD2143G0-I", SerialNumber: "DS-2CD2143G0-I20190101AAWRC12345678",
		UDN: "uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc"}
	if *dev != want {
		t.Errorf("got  %+v\nwant %+v", *dev, want)
	}
}

func TestParseDescriptionRefuses(t *testing.T) {
	ns := `xmlns="` + Namespace + `"`
	for _, c := range []struct{ name, b, want string }{
		{"other root", `<scpd ` + ns + `><actionList/></scpd>`, "not a device description"},
		{"other namespace", `<root xmlns="urn:example"><!-- ` + Namespace + ` --></root>`, "not a device description"},
		{"cut", `<root ` + ns + `><device><friendlyName>Cam`, "unexpected EOF"},
		{"long text", `<root ` + ns + `><device><friendlyName>` + strings.Repeat("x", maxText+1) + `</friendlyName></device></root>`, "longer than"},
		{"deep", `<root ` + ns + `>` + strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth) + `</root>`, "deeper"},
		{"tokens", `<root ` + ns + `>` + strings.Repeat("<a/>", maxTokens) + `</root>`, "tokens"},
		{"big", `<root ` + ns + `>` + strings.Repeat(" ", MaxSize) + `</root>`, "more than"},
		{"not xml", "HTTP/1.1 200 OK\r\n\r\n", "no UPnP"},
	} {
		if _, err := ParseDescription([]byte(c.b)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func FuzzParseDescription(f *testing.F) {
	f.Add(generated(f))
	f.Add([]byte(`<root xmlns="` + Namespace + `"><device><UDN>uuid:1</UDN><deviceList><device><UDN>uuid:2</UDN></device></deviceList></device></root>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dev, err := ParseDescription(b)
		if err == nil && dev == nil {
			t.Fatal("nil without error")
		}
		if dev != nil {
			for _, v := range []string{dev.FriendlyName, dev.Manufacturer, dev.ModelName, dev.ModelNumber, dev.SerialNumber, dev.UDN} {
				if len(v) > maxText {
					t.Fatalf("field of %d bytes", len(v))
				}
			}
		}
	})
}

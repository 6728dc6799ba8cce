package upnp

import (
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// generated returns the camera's description as netfixture writes it with encoding/xml, in the
// layout of UPnP Device Architecture 2.0 §2.3, with an embedded device whose fields must not be
// taken for the root's.
func generated(testing.TB) []byte { return netfixture.CameraDescription() }

func TestParseDescription(t *testing.T) {
	dev, err := ParseDescription(generated(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Device{DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: "Cam-Front", Manufacturer: "Hikvision",
		ModelName: "DS-2CD2143G0-I", ModelNumber: "DS-2CD2143G0-I", SerialNumber: netfixture.CameraSerial,
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

package sadp

import (
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// generated returns a probe and a Hikvision camera's answer, as netfixture writes them with
// encoding/xml in the fields and order of the published capture (see the package comment).
func generated(testing.TB) (probe, match []byte) {
	return netfixture.SADPProbe(), netfixture.SADPProbeMatch()
}

func TestParseGenerated(t *testing.T) {
	probe, match := generated(t)
	m, err := Parse(probe)
	if err != nil || m.Kind != KindProbe || m.Types != "inquiry" || m.Uuid != "8282F1DB-2FA6-4709-B261-3C6B6A48CA17" || m.Serial != "" {
		t.Fatalf("probe: %+v, %v", m, err)
	}
	m, err = Parse(match)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Kind: KindProbeMatch, Uuid: "8282F1DB-2FA6-4709-B261-3C6B6A48CA17", Types: "inquiry", DeviceType: "139",
		Description: "DS-2CD2143G0-I", Serial: "DS-2CD2143G0-I20190101AAWRC12345678", MAC: "44-47-cc-aa-bb-cc", IPv4: "192.168.50.64",
		IPv6: "fe80::4647:ccff:feaa:bbcc", Gateway: "192.168.50.1", HTTPPort: "80", CommandPort: "8000", Software: "V5.5.82build 190909",
		DSP: "V7.3, build 190830", OEMInfo: "N/A", Activated: "true"}
	if *m != want {
		t.Errorf("got  %+v\nwant %+v", *m, want)
	}
}

func TestLooksLike(t *testing.T) {
	probe, match := generated(t)
	for _, c := range []struct {
		name string
		b    string
		ok   bool
	}{
		{"probe", string(probe), true},
		{"match", string(match), true},
		{"no declaration", "<Probe><Uuid>x</Uuid><Types>inquiry</Types></Probe>", true},
		// WS-Discovery, on the same multicast group and often from port 37020 too, is a SOAP envelope.
		{"ws-discovery probe", `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`, false},
		{"ssdp", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n", false},
		{"other xml", "<Probe><Name>x</Name></Probe>", false},
		{"unterminated declaration", "<?xml version='1.0'", false},
		{"empty", "", false},
	} {
		if got := LooksLike([]byte(c.b)); got != c.ok {
			t.Errorf("%s: LooksLike %v", c.name, got)
		}
	}
}

func TestParseBounds(t *testing.T) {
	for _, c := range []struct {
		name, b, want string
	}{
		{"cut", "<ProbeMatch><Types>inquiry</Types><DeviceSN>DS-1", "unexpected EOF"},
		{"long text", "<ProbeMatch><Types>inquiry</Types><DeviceSN>" + strings.Repeat("A", maxText+1) + "</DeviceSN></ProbeMatch>", "longer than"},
		{"deep", "<Probe><Types>inquiry</Types>" + strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth) + "</Probe>", "deeper"},
		{"many tokens", "<Probe><Types>inquiry</Types>" + strings.Repeat("<a/>", maxTokens) + "</Probe>", "tokens"},
		{"mismatched", "<Probe><Types>inquiry</Type></Probe>", "offset"},
		{"big", "<Probe><Types>inquiry</Types>" + strings.Repeat(" ", MaxSize) + "</Probe>", "more than"},
	} {
		_, err := Parse([]byte(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	probe, match := generated(f)
	f.Add(probe)
	f.Add(match)
	f.Add([]byte("<ProbeMatch><Types>inquiry</Types><DeviceSN>x</DeviceSN><x><y>z</y></x></ProbeMatch>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && (m == nil || m.Kind == "") {
			t.Fatalf("no message without error: %+v", m)
		}
		if m != nil {
			for _, v := range []string{m.Uuid, m.Types, m.Description, m.Serial, m.Software} {
				if len(v) > maxText {
					t.Fatalf("field of %d bytes", len(v))
				}
			}
		}
	})
}

package mqtt

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/netflow"
)

func TestNetCloudAPIFixes(t *testing.T) {
	osd := []byte(`{"tid":"a","data":{"latitude":22.907809968,"longitude":113.703482143,"height":100.2,"home_latitude":22.9071,"home_longitude":113.7031}}`)
	stream := append(connect(5, "pilot2-rc-5YSZK", "fh2user"), publish(5, "thing/product/1581F5BKD225D00A0A12/osd", osd)...)
	stream = append(stream, publish(5, "thing/product/1581F5BKD225D00A0A12/osd", []byte(`{"data":{"latitude":0,"longitude":0}}`))...)
	var rec decodertest.Sink
	in := decoders.Input{Path: "lab.pcapng", SHA256: "00"}
	if !(Net{}).Sniff(stream) {
		t.Fatal("Sniff")
	}
	fl := Net{}.NewFlow(in, &rec)
	nw := geo.Network{Proto: netflow.TCP, Src: netip.MustParseAddrPort("192.168.50.23:40000"), Dst: netip.MustParseAddrPort("192.168.50.10:1883"), Direction: netflow.ClientToServer}
	cut := 50
	fl.Segment(decoders.Segment{Frame: 4, Offset: 400, Time: time.Unix(1, 0), Network: nw, Payload: stream[:cut]})
	fl.Segment(decoders.Segment{Frame: 6, Offset: 700, Time: time.Unix(2, 0), Network: nw, Payload: stream[cut:]})
	fl.Close()
	if len(rec.Fixes) != 2 {
		t.Fatalf("fixes %+v", rec.Fixes)
	}
	a, h := rec.Fixes[1], rec.Fixes[0] // positions come in key order: home_latitude before latitude
	if a.Role != geo.RoleAircraft || a.Lat != 22.907809968 || a.Evidence.Channel != geo.ChannelNetwork || a.Evidence.Locator != "frame 6" ||
		a.Evidence.Network == nil || a.Evidence.Network.Dst.Port() != 1883 || a.Evidence.Decoder != "mqtt" || !a.HasAlt {
		t.Errorf("aircraft %+v", a)
	}
	if h.Role != geo.RoleHome || h.Lon != 113.7031 || h.PrecisionM != geo.PrecisionFromDecimals(4) {
		t.Errorf("home %+v", h)
	}
	ids := map[string]string{}
	for _, n := range rec.Notes {
		for k, v := range n.Attrs {
			ids[k] = v
		}
	}
	if ids["device_serial"] != "1581F5BKD225D00A0A12" || ids["mqtt_client_id"] != "pilot2-rc-5YSZK" || ids["mqtt_username"] != "fh2user" {
		t.Errorf("identity notes %+v", rec.Notes)
	}
	if rec.Counts["mqtt_publish"] != 2 {
		t.Errorf("counts %v", rec.Counts)
	}
}

// serialRE is the expression topicSerial stands for.
var serialRE = regexp.MustCompile(`^(?:thing|sys)/product/([A-Za-z0-9]{6,40})/`)

func FuzzTopicSerial(f *testing.F) {
	for _, t := range []string{"thing/product/4TADKAQ000002J/osd", "sys/product/1581F5BKD225D00BBC9J/status", "thing/product/abc/osd",
		"thing/product/" + strings.Repeat("A", 40) + "/x", "thing/product/" + strings.Repeat("A", 41) + "/x", "thing/product/ABCDEF",
		"thing/product/ABCDEF/", "sys/product/ABC-DEF/x", "thing/products/ABCDEFG/x", "", "thing/product//"} {
		f.Add(t)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		sn, ok := topicSerial(topic)
		m := serialRE.FindStringSubmatch(topic)
		if ok != (m != nil) || ok && sn != m[1] {
			t.Fatalf("%q: %q %v, regexp %q", topic, sn, ok, m)
		}
	})
}

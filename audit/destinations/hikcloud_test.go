package destinations

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"droneaudit/internal/netfixture"
)

// vtmRequest is an EZVIZ VTM StreamInfoReq as LethalEthan/LE-EZVIZ-VS lays it out (protocol.md):
// 0x24, message channel 0, body length, sequence 0, code 0x13b, then a protobuf body whose field
// 1 is the ysproto stream URL.
func vtmRequest(url string) []byte {
	body := append([]byte{0x0a, byte(len(url))}, url...)
	b := []byte{0x24, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = append(b, 0, 0, 0x01, 0x3b)
	return append(b, body...)
}

// TestHikvisionByContent classifies, without any lookup naming them, an EZVIZ VTM relay on its
// usual port and one on a port handed out at run time as hikvision-cloud by the protocol, and
// names an EHome 2.0 registration without giving its platform an owner: the device sends it to
// whatever server it is set to.
func TestHikvisionByContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hik.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	cam := netip.MustParseAddr("192.168.50.20")
	for i, srv := range []string{"47.91.88.200:8554", "47.254.1.2:9010"} {
		c, err := w.TCP(netip.AddrPortFrom(cam, uint16(41000+i)), netip.MustParseAddrPort(srv))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(true, vtmRequest("ysproto://"+srv+"/live?dev=BD1234567&chn=1&stream=1")); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	reg := `<?xml version="1.0" encoding="GB2312"?><PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence>` +
		`<CommandType>REQUEST</CommandType><Command>REGISTER</Command><Params><DeviceID>560796072</DeviceID></Params></PPVSPMessage>`
	if err := w.UDP(netip.AddrPortFrom(cam, 41100), netip.MustParseAddrPort("198.51.100.7:7660"), []byte(reg)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	inv, err := Build(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ owner, rule, app string }{
		"47.91.88.200:8554": {OwnerHikvision, "app:hik-vtm (M)", "hik-vtm"},
		"47.254.1.2:9010":   {OwnerHikvision, "app:hik-vtm (M)", "hik-vtm"},
		"198.51.100.7:7660": {OwnerUnknown, "", "hik-ehome"},
	}
	for _, r := range inv.Rows {
		k := r.IP + ":" + strconv.Itoa(int(r.Port))
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected destination %s", k)
			continue
		}
		delete(want, k)
		if r.Owner != w.owner || r.OwnerRule != w.rule || r.App != w.app {
			t.Errorf("%s: owner %q rule %q app %q, want %+v", k, r.Owner, r.OwnerRule, r.App, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("not found: %v", want)
	}
	if v := inv.Violations(Policy{DenyOwners: []string{"hikvision-cloud"}}); len(v) != 2 {
		t.Errorf("%d violations: %+v", len(v), v)
	}
}

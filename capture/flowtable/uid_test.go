package flowtable

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"

	"droneaudit/netflow"
)

// oldFlowUID is flowUID as it was before it hashed a stack buffer (MarshalBinary, a streaming
// hash, base32 of the whole sum): reports name flows by these uids, so the values must not move.
func oldFlowUID(f *Flow) string {
	h := sha256.New()
	h.Write([]byte{byte(f.Proto)})
	b, _ := f.Client.MarshalBinary()
	h.Write(b)
	b, _ = f.Server.MarshalBinary()
	h.Write(b)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(f.FirstFrame))
	h.Write(n[:])
	if f.reuse > 0 {
		binary.BigEndian.PutUint32(n[:4], f.reuse)
		h.Write(n[:4])
	}
	return "C" + uidEncoding.EncodeToString(h.Sum(nil))[:17]
}

// The uids of a few flows, pinned to the values the first implementation gave them.
func TestFlowUIDPinned(t *testing.T) {
	ap := netip.MustParseAddrPort
	cases := []struct {
		f    Flow
		want string
	}{
		{Flow{Proto: netflow.TCP, Client: ap("192.168.50.23:40000"), Server: ap("47.91.161.230:443"), FirstFrame: 1}, "Cahsltlu7nfq0vhnn6"},
		{Flow{Proto: netflow.UDP, Client: ap("10.0.0.2:5353"), Server: ap("10.0.0.1:53"), FirstFrame: 123456789}, "C1gv1uk0cdbooh3tlq"},
		{Flow{Proto: netflow.UDP, Client: ap("[2001:db8::1]:443"), Server: ap("[2001:db8::2]:50000"), FirstFrame: 7}, "Ceuv3ackevp7v9vuif"},
		{Flow{Proto: netflow.TCP, Client: ap("[fe80::1%eth0]:80"), Server: ap("[::ffff:10.1.2.3]:8080"), FirstFrame: 0}, "Cvfaf6q71v4hdkck0q"},
		{Flow{Proto: netflow.TCP, Client: ap("192.168.50.23:40000"), Server: ap("47.91.161.230:443"), FirstFrame: 1, reuse: 2}, "Cgoqvjt6f0uritalee"},
		{Flow{Proto: netflow.TCP, FirstFrame: -1}, "Ccn48lineurnjptd8s"},
	}
	for i, c := range cases {
		if got, old := flowUID(&c.f), oldFlowUID(&c.f); got != c.want || old != c.want {
			t.Errorf("flow %d: uid %s, first implementation %s, pinned %s", i, got, old, c.want)
		}
	}
}

// FuzzFlowUID compares flowUID with the first implementation on any endpoints, frame and reuse
// count.
func FuzzFlowUID(f *testing.F) {
	f.Add(uint8(6), []byte{192, 168, 50, 23}, uint16(40000), []byte{47, 91, 161, 230}, uint16(443), int64(1), uint32(0), "")
	f.Add(uint8(17), []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(53), []byte{}, uint16(0), int64(-5), uint32(3), "eth0")
	f.Fuzz(func(t *testing.T, proto uint8, a []byte, pa uint16, b []byte, pb uint16, frame int64, reuse uint32, zone string) {
		ca, _ := netip.AddrFromSlice(a)
		sa, _ := netip.AddrFromSlice(b)
		if ca.Is6() {
			ca = ca.WithZone(zone)
		}
		fl := Flow{Proto: netflow.Proto(proto), Client: netip.AddrPortFrom(ca, pa), Server: netip.AddrPortFrom(sa, pb), FirstFrame: int(frame), reuse: reuse}
		if got, want := flowUID(&fl), oldFlowUID(&fl); got != want {
			t.Fatalf("uid %s, first implementation %s", got, want)
		}
	})
}

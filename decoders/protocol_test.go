package decoders

import (
	"bytes"
	"testing"

	"droneaudit/netflow"
)

func TestRecognise(t *testing.T) {
	prefix := func(s string) func([]byte) bool { return func(b []byte) bool { return bytes.HasPrefix(b, []byte(s)) } }
	list := []Protocol{
		{Name: "any-x", Sniff: prefix("X")},
		{Name: "x-on-99", Ports: []uint16{99}, Sniff: prefix("X")},
		{Name: "dns", Transport: netflow.UDP, Ports: []uint16{53}, PortRequired: true, Sniff: prefix("D")},
	}
	for _, c := range []struct {
		t    netflow.Proto
		a, b uint16
		data string
		want string
	}{
		{netflow.TCP, 1000, 2000, "X..", "any-x"}, // content decides; first in order
		{netflow.TCP, 1000, 99, "X..", "x-on-99"}, // the port breaks the tie
		{netflow.UDP, 53, 4000, "D..", "dns"},     // weak content on its port
		{netflow.UDP, 5353, 4000, "D..", ""},      // weak content elsewhere: nothing
		{netflow.TCP, 53, 4000, "D..", ""},        // wrong transport
		{netflow.UDP, 1000, 2000, "nothing", ""},
	} {
		got := ""
		if p := Recognise(list, c.t, c.a, c.b, []byte(c.data)); p != nil {
			got = p.Name
		}
		if got != c.want {
			t.Errorf("%v %d-%d %q: got %q, want %q", c.t, c.a, c.b, c.data, got, c.want)
		}
	}
}

// recogniseInOrder is Recognise as it was: every protocol sniffed in list order, the first match
// on its port taken, else the first match.
func recogniseInOrder(list []Protocol, t netflow.Proto, a, b uint16, payload []byte) *Protocol {
	var first *Protocol
	for i := range list {
		p := &list[i]
		match, onPort := p.Matches(t, a, b, payload)
		switch {
		case !match:
		case onPort:
			return p
		case first == nil:
			first = p
		}
	}
	return first
}

// FuzzRecognise compares Recognise, which sniffs the protocols on their port first, with the
// walk in list order, on lists of protocols whose content tests and ports the input picks.
func FuzzRecognise(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint16(53), uint16(4000), true)
	f.Add([]byte("XXXXXXXXXXXXXXXXXXXXXXXXXXXX"), uint16(99), uint16(443), false)
	f.Fuzz(func(t *testing.T, spec []byte, a, b uint16, udp bool) {
		var list []Protocol
		for i := 0; i+2 < len(spec) && len(list) < 12; i += 3 {
			want, flags, port := spec[i], spec[i+1], uint16(spec[i+2]%4)
			p := Protocol{Name: string(rune('a' + len(list))), PortRequired: flags&1 != 0,
				Sniff: func(b []byte) bool { return len(b) > 0 && b[0]&want != 0 }}
			switch flags >> 1 & 3 {
			case 1:
				p.Transport = netflow.TCP
			case 2:
				p.Transport = netflow.UDP
			}
			if flags&8 != 0 {
				p.Ports = []uint16{port, 7}
			}
			list = append(list, p)
		}
		tr := netflow.TCP
		if udp {
			tr = netflow.UDP
		}
		payload := spec[len(spec)/2:]
		if got, want := Recognise(list, tr, a%4, b%8, payload), recogniseInOrder(list, tr, a%4, b%8, payload); got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

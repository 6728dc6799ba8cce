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

package decoders

import "testing"

func TestNoteLine(t *testing.T) {
	for _, c := range []struct {
		n    Note
		want string
	}{
		{Note{Input: "a.pcap", Locator: "frame 3", Offset: 120, Message: "cut"}, "a.pcap: frame 3 (offset 120): cut"},
		{Note{Input: "a.pcap", Offset: -1, Message: "holes"}, "a.pcap: holes"},
		{Note{Locator: "flow C1", Offset: -1, Message: "lost"}, "flow C1: lost"},
		{Note{Offset: 7, Message: "junk"}, "(offset 7): junk"},
		{Note{Offset: -1, Message: "alone"}, "alone"},
	} {
		if got := c.n.Line(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.n, got, c.want)
		}
	}
}

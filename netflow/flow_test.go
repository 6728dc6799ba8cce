package netflow

import "testing"

func TestNames(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{TCP.String(), "tcp"}, {UDP.String(), "udp"}, {Proto(1).String(), "ip-1"}, {Proto(132).String(), "ip-132"},
		{ClientToServer.String(), "client-to-server"}, {ServerToClient.String(), "server-to-client"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, d := range []Direction{ClientToServer, ServerToClient} {
		if p, ok := ParseDirection(d.String()); !ok || p != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d, p, ok)
		}
		if d.Reverse() == d || d.Reverse().Reverse() != d {
			t.Errorf("Reverse(%v) = %v", d, d.Reverse())
		}
	}
	if _, ok := ParseDirection("sideways"); ok {
		t.Error("ParseDirection accepted a bad name")
	}
}

package demo

import (
	"bytes"
	"testing"

	"droneaudit/internal/netfixture"
)

// The embedded files must be exactly what the generator produces today, and the generator must
// be deterministic.
func TestEmbeddedUpToDate(t *testing.T) {
	c1, err := Capture()
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := Capture()
	if !bytes.Equal(c1, c2) {
		t.Fatal("Capture is not deterministic")
	}
	if !bytes.Equal(c1, EmbeddedCapture) {
		t.Fatal("embedded capture is stale: run `go generate ./internal/demo`")
	}
	if !bytes.Equal(Zones(), EmbeddedZones) {
		t.Fatal("embedded zones are stale: run `go generate ./internal/demo`")
	}
	s1, err := netfixture.ExampleCapture()
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := netfixture.ExampleCapture(); !bytes.Equal(s1, s2) {
		t.Fatal("netfixture.ExampleCapture is not deterministic")
	}
	if !bytes.Equal(s1, EmbeddedSegment) {
		t.Fatal("embedded lab segment is stale: run `go generate ./internal/demo`")
	}
}

package demo

import (
	"bytes"
	"testing"
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
}

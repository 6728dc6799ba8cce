package demo

import _ "embed"

// Embedded demo files, written by `go generate ./internal/demo` (gen/main.go) from Capture,
// Zones and netfixture.ExampleCapture; TestEmbeddedUpToDate fails when they drift from the
// generators.
var (
	//go:embed kleine-brogel-flight.pcapng
	EmbeddedCapture []byte
	//go:embed belgian-sensitive-sites.geojson
	EmbeddedZones []byte
	// EmbeddedSegment is the lab segment example: a DJI controller, a phone, a Hikvision camera,
	// a Dahua NVR, a lab PC and the router, what they announce and whom they contact.
	//go:embed lab-segment.pcapng
	EmbeddedSegment []byte
)

// SegmentName is the name under which the lab segment example appears in reports.
const SegmentName = "example/lab-segment.pcapng"

//go:generate go run ./gen

package demo

import _ "embed"

// Embedded demo files, written by `go generate ./internal/demo` (gen/main.go) from Capture and
// Zones; TestEmbeddedUpToDate fails when they drift from the generator.
var (
	//go:embed kleine-brogel-flight.pcapng
	EmbeddedCapture []byte
	//go:embed belgian-sensitive-sites.geojson
	EmbeddedZones []byte
)

//go:generate go run ./gen

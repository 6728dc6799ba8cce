package audit

import (
	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/decoders/csvlog"
	"droneaudit/decoders/dataflash"
	"droneaudit/decoders/djilog"
	"droneaudit/decoders/duml"
	"droneaudit/decoders/gpx"
	"droneaudit/decoders/http"
	"droneaudit/decoders/mavlink"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/remoteid"
	"droneaudit/decoders/srt"
	"droneaudit/decoders/tlslayer"
	"droneaudit/decoders/ulog"
)

// One line per format. Order matters only for file sniffing: the first decoder whose Sniff
// accepts a file decodes it, so more specific formats come first.
func init() {
	registerFile(djilog.Decoder{})
	registerFile(dataflash.New())
	registerFile(ulog.New())
	registerFile(mavlink.File{})
	registerFile(duml.Stream{})
	registerFile(srt.New())
	registerFile(csvlog.New())
	registerFile(gpx.New())
	registerPayload(mavlink.Net{})
	registerPayload(duml.UDPWrapper{})
	registerPayload(mqtt.Net{})
	registerPayload(http.Net{Files: fileDecoders}) // after the file decoders: bodies are read with them
	registerPayload(http.H2Net{Files: fileDecoders})
	registerPayload(http.H3Net{Files: fileDecoders})
	registerLink(duml.Tap{})
	registerLink(remoteid.LinkDecoder{})
	for _, p := range destinations.Protocols {
		registerProtocol(p)
	}
	registerProtocol(http.H3Protocol)
	for _, p := range tlslayer.Protocols {
		registerProtocol(p)
	}
	for _, p := range devices.Protocols {
		registerProtocol(p)
	}
}

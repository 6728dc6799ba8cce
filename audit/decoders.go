package audit

import (
	"droneaudit/decoders/duml"
	"droneaudit/decoders/mavlink"
	"droneaudit/decoders/remoteid"
)

// One line per format. Order matters only for file sniffing: the first decoder whose Sniff
// accepts a file decodes it, so more specific formats come first.
func init() {
	registerFile(mavlink.File{})
	registerFile(duml.Stream{})
	registerPayload(mavlink.Net{})
	registerLink(duml.Tap{})
	registerLink(remoteid.LinkDecoder{})
}

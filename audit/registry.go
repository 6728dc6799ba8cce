package audit

import "droneaudit/decoders"

// The decoders the audit runs. A new format registers itself with one line in decoders.go.
var (
	fileDecoders    []decoders.FileDecoder
	payloadDecoders []decoders.PayloadDecoder
	linkDecoders    []decoders.LinkDecoder
)

func registerFile(d decoders.FileDecoder)       { fileDecoders = append(fileDecoders, d) }
func registerPayload(d decoders.PayloadDecoder) { payloadDecoders = append(payloadDecoders, d) }
func registerLink(d decoders.LinkDecoder)       { linkDecoders = append(linkDecoders, d) }

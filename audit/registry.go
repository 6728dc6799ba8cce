package audit

import "droneaudit/decoders"

// The decoders the audit runs. A new format registers itself with one line in decoders.go.
var (
	fileDecoders    []decoders.FileDecoder
	payloadDecoders []decoders.PayloadDecoder
	linkDecoders    []decoders.LinkDecoder
	protocols       []decoders.Protocol // flow protocols the observers read, and port rules for payload decoders
)

func registerFile(d decoders.FileDecoder)       { fileDecoders = append(fileDecoders, d) }
func registerPayload(d decoders.PayloadDecoder) { payloadDecoders = append(payloadDecoders, d) }
func registerLink(d decoders.LinkDecoder)       { linkDecoders = append(linkDecoders, d) }
func registerProtocol(p decoders.Protocol)      { protocols = append(protocols, p) }

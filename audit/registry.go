package audit

import (
	"droneaudit/decoders"
	"droneaudit/decoders/http"
)

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

// payloads are the payload decoders of a run: the registry's, the HTTP decoders told where to
// extract the objects of bodies when Extract is set.
func (o *Options) payloads() []decoders.PayloadDecoder {
	if o.Extract == "" {
		return payloadDecoders
	}
	out := make([]decoders.PayloadDecoder, len(payloadDecoders))
	for i, d := range payloadDecoders {
		switch d := d.(type) {
		case http.Net:
			d.Extract = o.Extract
			out[i] = d
		case http.H2Net:
			d.Extract = o.Extract
			out[i] = d
		case http.H3Net:
			d.Extract = o.Extract
			out[i] = d
		default:
			out[i] = d
		}
	}
	return out
}

package decoders

import "droneaudit/netflow"

// Protocol says how the engine recognises one application protocol on a flow: by content first
// (Sniff on a payload), with well-known ports as a hint that breaks ties between protocols whose
// content matches, and, for protocols whose content alone is too weak a sign (DNS, DHCP), as a
// condition. Every stage that cares what a flow carries (the payload decoders, the destination
// inventory) reads the engine's one answer instead of guessing again.
type Protocol struct {
	Name      string
	Transport netflow.Proto // 0: TCP and UDP
	Ports     []uint16      // well-known ports, either end of the flow
	// PortRequired makes the port a condition, not only a hint.
	PortRequired bool
	Sniff        func(payload []byte) bool
	// Streams: the protocol is carried on one stream of a multi-stream layer (HTTP/3 on a QUIC
	// stream). Such protocols are tried only on the inner flows of those streams
	// (flowtable.Flow.InStream), and those flows only against such protocols.
	Streams bool
}

// Matches reports whether a payload of a flow between ports a and b on transport t looks like
// this protocol, and whether one of the ports is the protocol's own.
func (p *Protocol) Matches(t netflow.Proto, a, b uint16, payload []byte) (match, onPort bool) {
	if p.Transport != 0 && p.Transport != t {
		return false, false
	}
	for _, q := range p.Ports {
		if q == a || q == b {
			onPort = true
			break
		}
	}
	if p.PortRequired && !onPort {
		return false, false
	}
	return p.Sniff(payload), onPort
}

// Recognise returns the protocol a payload belongs to: among the protocols whose content matches,
// the first one on its own port, else the first one in list order. It returns nil when none
// matches. The protocols on their own port are sniffed first, so that a flow on a well-known port
// (TLS on 443) is not sniffed by every other protocol; a protocol's Sniff runs at most once.
func Recognise(list []Protocol, t netflow.Proto, a, b uint16, payload []byte) *Protocol {
	for i := range list {
		if p := &list[i]; p.onPort(t, a, b) {
			if match, _ := p.Matches(t, a, b, payload); match {
				return p
			}
		}
	}
	for i := range list {
		if p := &list[i]; !p.onPort(t, a, b) {
			if match, _ := p.Matches(t, a, b, payload); match {
				return p
			}
		}
	}
	return nil
}

// onPort reports whether Matches would find one of the ports the protocol's own on transport t.
func (p *Protocol) onPort(t netflow.Proto, a, b uint16) bool {
	if p.Transport != 0 && p.Transport != t {
		return false
	}
	for _, q := range p.Ports {
		if q == a || q == b {
			return true
		}
	}
	return false
}

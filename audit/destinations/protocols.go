package destinations

import (
	"droneaudit/decoders"
	"droneaudit/decoders/dahuap2p"
	"droneaudit/decoders/dhcp"
	"droneaudit/decoders/dns"
	"droneaudit/decoders/hikcloud"
	"droneaudit/decoders/http"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tls"
	"droneaudit/netflow"
)

// Protocols are the flow protocols the inventory reads names from, as the engine is to recognise
// them: content first, the well-known port as a hint, and as a condition where content is a weak
// sign (a DNS header, a DHCP magic cookie). DNS over TCP is taken on port 53 whatever its first
// bytes (a length prefix precedes each message, RFC 1035 §4.2.2).
var Protocols = []decoders.Protocol{
	{Name: "dns", Transport: netflow.UDP, Ports: []uint16{53}, PortRequired: true, Sniff: dns.LooksLike},
	{Name: "dns", Transport: netflow.TCP, Ports: []uint16{53}, PortRequired: true, Sniff: func([]byte) bool { return true }},
	{Name: "dhcp", Transport: netflow.UDP, Ports: []uint16{67, 68}, PortRequired: true, Sniff: dhcp.LooksLike},
	// Dahua's P2P service hands out servers and ports at run time: recognised by content, and
	// classified by it (owner rule "app:dahua-p2p").
	{Name: "dahua-p2p", Transport: netflow.UDP, Ports: []uint16{dahuap2p.Port}, Sniff: dahuap2p.LooksLike},
	// EZVIZ/Hik-Connect's VTM stream relays are handed out at run time in ysproto URLs
	// (owner rule "app:hik-vtm"); EHome 2.x registration goes to whatever platform the device is
	// set to, so it is named but has no owner by protocol (see docs/OWNERS.md).
	{Name: hikcloud.VTM, Transport: netflow.TCP, Ports: []uint16{hikcloud.VTMPort}, Sniff: hikcloud.LooksLikeVTM},
	{Name: hikcloud.EHome, Ports: []uint16{hikcloud.EHomePort}, Sniff: hikcloud.LooksLikeEHome},
	{Name: "quic", Transport: netflow.UDP, Ports: []uint16{443}, Sniff: quic.IsLongHeader},
	{Name: "tls", Transport: netflow.TCP, Ports: []uint16{443, 853, 8883}, Sniff: tls.LooksLike},
	{Name: "http", Transport: netflow.TCP, Ports: []uint16{80, 8080}, Sniff: http.LooksLike},
	{Name: "mqtt", Transport: netflow.TCP, Ports: []uint16{1883}, Sniff: mqtt.LooksLike},
}

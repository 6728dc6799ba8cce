package devices

import (
	"droneaudit/decoders"
	"droneaudit/decoders/llmnr"
	"droneaudit/decoders/mdns"
	"droneaudit/decoders/sadp"
	"droneaudit/decoders/ssdp"
	"droneaudit/decoders/wsdiscovery"
	"droneaudit/netflow"
)

// Names of the discovery protocols the inventory reads, as the engine hands them on in
// engine.Chunk.App (DHCP is recognised by the destination inventory's list).
const (
	AppMDNS        = "mdns"
	AppLLMNR       = "llmnr"
	AppSSDP        = "ssdp"
	AppWSDiscovery = "ws-discovery"
	AppDHCP        = "dhcp"
	AppSADP        = "hikvision-sadp"
	AppHTTP        = "http" // UPnP device descriptions are read from HTTP responses
)

// Protocols are the discovery protocols a device announces itself with, as the engine is to
// recognise them: mDNS and LLMNR are DNS messages, a weak sign, so their ports are a
// condition; SSDP start lines, WS-Discovery envelopes and SADP's bare Probe and ProbeMatch
// elements are strong signs, their ports a hint.
var Protocols = []decoders.Protocol{
	{Name: AppMDNS, Transport: netflow.UDP, Ports: []uint16{mdns.Port}, PortRequired: true, Sniff: mdns.LooksLike},
	{Name: AppLLMNR, Transport: netflow.UDP, Ports: []uint16{llmnr.Port}, PortRequired: true, Sniff: llmnr.LooksLike},
	{Name: AppSSDP, Transport: netflow.UDP, Ports: []uint16{ssdp.Port}, Sniff: ssdp.LooksLike},
	{Name: AppWSDiscovery, Transport: netflow.UDP, Ports: []uint16{wsdiscovery.Port}, Sniff: wsdiscovery.LooksLike},
	{Name: AppSADP, Transport: netflow.UDP, Ports: []uint16{sadp.Port}, Sniff: sadp.LooksLike},
}

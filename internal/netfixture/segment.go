package netfixture

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/dns/dnsmessage"
)

// SegmentHost is one device of the generated lab segment.
type SegmentHost struct {
	Name string // what the tests call it
	MAC  net.HardwareAddr
	IP   netip.Addr
	IP6  netip.Addr // link-local or global IPv6 address; invalid without one
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// The devices of the generated lab segment: a router (DHCP server, resolver, gateway), a DJI
// smart controller, a phone with a randomised Wi-Fi address, a Hikvision camera, a Dahua NVR
// and a lab PC. Their MAC prefixes are the makers' IEEE assignments.
var (
	SegRouter = SegmentHost{"router", mustMAC("50:c7:bf:01:02:03"), netip.MustParseAddr("192.168.50.1"), netip.Addr{}}
	SegRC     = SegmentHost{"rc", mustMAC("60:60:1f:aa:00:01"), netip.MustParseAddr("192.168.50.30"), netip.Addr{}}
	SegPhone  = SegmentHost{"phone", mustMAC("da:a1:19:2b:3c:4d"), netip.MustParseAddr("192.168.50.23"), netip.MustParseAddr("2a02:1810:50::23")}
	SegCamera = SegmentHost{"camera", mustMAC("44:47:cc:aa:bb:cc"), netip.MustParseAddr("192.168.50.64"), netip.MustParseAddr("fe80::4647:ccff:feaa:bbcc")}
	SegNVR    = SegmentHost{"nvr", mustMAC("6c:1c:71:11:22:33"), netip.MustParseAddr("192.168.50.108"), netip.Addr{}}
	SegPC     = SegmentHost{"pc", mustMAC("f4:8e:38:0a:0b:0c"), netip.MustParseAddr("192.168.50.40"), netip.Addr{}}
)

// SegmentHosts lists the devices in MAC order.
var SegmentHosts = []SegmentHost{SegRouter, SegPC, SegRC, SegCamera, SegNVR, SegPhone}

// Internet hosts the segment's devices contact, and their addresses.
var (
	HikLitedev  = LabHost{"litedev.hik-connect.com", netip.MustParseAddr("47.91.88.171"), netip.Addr{}}
	HikAPI      = LabHost{"apiieu.hik-connect.com", netip.MustParseAddr("3.120.0.20"), netip.MustParseAddr("2a05:d014:50::20")}
	DahuaP2P    = LabHost{"www.easy4ipcloud.com", netip.MustParseAddr("47.254.34.11"), netip.Addr{}}
	DJIFlySafe  = LabHosts[0] // flysafe-api.dji.com
	DahuaRelay  = netip.MustParseAddr("47.254.40.40")
	mdnsGroup4  = netip.MustParseAddr("224.0.0.251")
	llmnrGroup4 = netip.MustParseAddr("224.0.0.252")
	ssdpGroup4  = netip.MustParseAddr("239.255.255.250")
	bcast4      = netip.MustParseAddr("255.255.255.255")
)

// segMAC is the link-layer address of frames to or from an IP address on the segment: the
// device's own, a multicast group's, or the router's for every internet address.
func segMAC(a netip.Addr) net.HardwareAddr {
	for _, h := range SegmentHosts {
		if a == h.IP || (h.IP6.IsValid() && a == h.IP6) {
			return h.MAC
		}
	}
	switch {
	case a == bcast4 || a.IsUnspecified():
		return layers.EthernetBroadcast
	case a.Is4() && a.IsMulticast():
		b := a.As4()
		return net.HardwareAddr{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}
	case a.Is6() && a.IsMulticast():
		b := a.As16()
		return net.HardwareAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}
	}
	return SegRouter.MAC
}

// SegmentFlow is a client address and the server it opened a TLS session to.
type SegmentFlow struct {
	Client netip.Addr
	Server netip.AddrPort
}

// seg writes the segment's frames.
type seg struct {
	w   *Writer
	tls map[SegmentFlow]*Totals
	// fixed writes each TLS session as a ClientHello and fixed server records instead of a
	// crypto/tls session, so that the capture is the same on every run (GenerateExample).
	fixed bool
}

// GenerateSegment writes a capture of the lab segment, made with real protocol encoders:
// gopacket's DHCPv4 (with host name, vendor class and parameter request list) and DNS (mDNS
// announcements, LLMNR), net/http's request and response writers (SSDP), encoding/xml
// (WS-Discovery Hello, Probe and ProbeMatches with ONVIF scopes), x/net's DNS builder (lookups
// of the camera cloud hosts) and crypto/tls sessions to them. It returns the transport payload
// bytes of each TLS session: fresh sessions differ in size by a byte or two (the server's
// signature), every other byte of the capture is the same on every run.
func GenerateSegment(w *Writer) (map[SegmentFlow]*Totals, error) {
	s := &seg{w: w, tls: map[SegmentFlow]*Totals{}}
	if err := s.run(s.steps()); err != nil {
		return nil, err
	}
	return s.tls, nil
}

// run writes the steps' frames in order.
func (s *seg) run(steps []func() error) error {
	s.w.MACOf = segMAC
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// steps are what the segment's devices do, in order.
func (s *seg) steps() []func() error {
	return []func() error{
		// Leases: the router answers every client.
		func() error {
			return s.dhcp(SegRC, "DJI-RC-Pro", "android-dhcp-10", []byte{1, 3, 6, 15, 26, 28, 51, 58, 59, 43}, true)
		},
		func() error {
			return s.dhcp(SegPhone, "Pixel-7", "android-dhcp-14", []byte{1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108}, false)
		},
		func() error {
			return s.dhcp(SegCamera, "IPC-Front", "udhcp 1.20.2", []byte{1, 3, 6, 12, 15, 28, 42}, false)
		},
		func() error { return s.dhcp(SegNVR, "NVR-Lab", "", []byte{1, 3, 6, 12, 15, 28, 42, 40}, false) },
		s.garp,
		// What the devices announce on the segment.
		s.cameraMDNS,
		s.cameraNotify,
		func() error {
			return s.wsd(SegCamera, netip.AddrPortFrom(SegCamera.IP, 3702), netip.AddrPortFrom(ssdpGroup4, 3702), "Hello")
		},
		s.nvrProbe,
		s.phoneSearch,
		s.llmnr,
		// What they contact: the camera and the phone the Hik-Connect cloud, the NVR Dahua's P2P
		// server, the controller DJI.
		func() error { return s.lookupAndTLS(SegCamera.IP, 50001, HikLitedev, false) },
		func() error { return s.lookupAndTLS(SegPhone.IP, 50002, HikAPI, false) },
		func() error { return s.lookupAndTLS(SegPhone.IP6, 50003, HikAPI, true) },
		func() error { return s.lookupAndTLS(SegRC.IP, 50004, DJIFlySafe, false) },
		s.dahuaP2P,
	}
}

// frame writes one Ethernet/IPv4 UDP frame with explicit link-layer addresses.
func (s *seg) frame(srcMAC, dstMAC net.HardwareAddr, src, dst netip.AddrPort, payload []byte) error {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		return err
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, u, gopacket.Payload(payload)); err != nil {
		return err
	}
	return s.w.Frame(buf.Bytes())
}

func serial(l gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	if err := l.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

// dhcp writes a lease: DISCOVER and OFFER when full, then REQUEST and ACK.
func (s *seg) dhcp(h SegmentHost, host, vendor string, params []byte, full bool) error {
	msg := func(op layers.DHCPOp, typ layers.DHCPMsgType, yiaddr netip.Addr) ([]byte, error) {
		d := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0x5e600000 | uint32(h.MAC[5]),
			ClientHWAddr: h.MAC, ClientIP: net.IPv4zero, YourClientIP: net.IPv4zero, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero}
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)}))
		if op == layers.DHCPOpRequest {
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptClientID, append([]byte{1}, h.MAC...)))
			if typ == layers.DHCPMsgTypeRequest {
				d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptRequestIP, h.IP.AsSlice()),
					layers.NewDHCPOption(layers.DHCPOptServerID, SegRouter.IP.AsSlice()))
			}
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptHostname, []byte(host)))
			if vendor != "" {
				d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptClassID, []byte(vendor)))
			}
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptParamsRequest, params))
		} else {
			d.YourClientIP = net.IP(yiaddr.AsSlice())
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptServerID, SegRouter.IP.AsSlice()),
				layers.NewDHCPOption(layers.DHCPOptLeaseTime, []byte{0, 1, 0x51, 0x80}),
				layers.NewDHCPOption(layers.DHCPOptSubnetMask, []byte{255, 255, 255, 0}),
				layers.NewDHCPOption(layers.DHCPOptRouter, SegRouter.IP.AsSlice()),
				layers.NewDHCPOption(layers.DHCPOptDNS, SegRouter.IP.AsSlice()))
		}
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
		return serial(d)
	}
	client := netip.AddrPortFrom(netip.IPv4Unspecified(), 68)
	server := netip.AddrPortFrom(SegRouter.IP, 67)
	toAll := netip.AddrPortFrom(bcast4, 67)
	toClient := netip.AddrPortFrom(bcast4, 68)
	write := func(fromClient bool, typ layers.DHCPMsgType) error {
		op, src, dst, smac := layers.DHCPOpRequest, client, toAll, h.MAC
		if !fromClient {
			op, src, dst, smac = layers.DHCPOpReply, server, toClient, SegRouter.MAC
		}
		b, err := msg(op, typ, h.IP)
		if err != nil {
			return err
		}
		return s.frame(smac, layers.EthernetBroadcast, src, dst, b)
	}
	if full {
		if err := write(true, layers.DHCPMsgTypeDiscover); err != nil {
			return err
		}
		if err := write(false, layers.DHCPMsgTypeOffer); err != nil {
			return err
		}
	}
	if err := write(true, layers.DHCPMsgTypeRequest); err != nil {
		return err
	}
	return write(false, layers.DHCPMsgTypeAck)
}

// garp writes a gratuitous ARP of the NVR.
func (s *seg) garp() error {
	eth := &layers.Ethernet{SrcMAC: SegNVR.MAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: SegNVR.MAC, SourceProtAddress: SegNVR.IP.AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: SegNVR.IP.AsSlice()}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, arp); err != nil {
		return err
	}
	return s.w.Frame(buf.Bytes())
}

// CameraInstance is the DNS-SD instance the camera announces.
const CameraInstance = "HIKVISION DS-2CD2143G0-I"

// cameraMDNS writes the camera's mDNS announcement: PTR, SRV, TXT, A and AAAA records with the
// cache-flush bit, over IPv4 and IPv6.
func (s *seg) cameraMDNS() error {
	flush := layers.DNSClass(0x8001)
	inst := []byte(CameraInstance + "._http._tcp.local")
	d := &layers.DNS{QR: true, AA: true, Answers: []layers.DNSResourceRecord{
		{Name: []byte("_http._tcp.local"), Type: layers.DNSTypePTR, Class: layers.DNSClassIN, TTL: 4500, PTR: inst},
		{Name: []byte("_services._dns-sd._udp.local"), Type: layers.DNSTypePTR, Class: layers.DNSClassIN, TTL: 4500, PTR: []byte("_http._tcp.local")},
		{Name: inst, Type: layers.DNSTypeSRV, Class: flush, TTL: 120, SRV: layers.DNSSRV{Port: 80, Name: []byte("Cam-Front.local")}},
		{Name: inst, Type: layers.DNSTypeTXT, Class: flush, TTL: 4500, TXTs: [][]byte{[]byte("model=DS-2CD2143G0-I"), []byte("fw=V5.5.82")}},
		{Name: []byte("Cam-Front.local"), Type: layers.DNSTypeA, Class: flush, TTL: 120, IP: net.IP(SegCamera.IP.AsSlice())},
		{Name: []byte("Cam-Front.local"), Type: layers.DNSTypeAAAA, Class: flush, TTL: 120, IP: net.IP(SegCamera.IP6.AsSlice())},
	}}
	b, err := serial(d)
	if err != nil {
		return err
	}
	if err := s.w.UDP(netip.AddrPortFrom(SegCamera.IP, 5353), netip.AddrPortFrom(mdnsGroup4, 5353), b); err != nil {
		return err
	}
	return s.w.UDP(netip.AddrPortFrom(SegCamera.IP6, 5353), netip.AddrPortFrom(netip.MustParseAddr("ff02::fb"), 5353), b)
}

// cameraNotify writes the camera's SSDP NOTIFY ssdp:alive.
func (s *seg) cameraNotify() error {
	req := &http.Request{Method: "NOTIFY", URL: &url.URL{Opaque: "*"}, Host: "239.255.255.250:1900", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"User-Agent":    {""},
			"Cache-Control": {"max-age=1800"},
			"Location":      {"http://192.168.50.64:49152/description.xml"},
			"Nt":            {"urn:schemas-upnp-org:device:Basic:1"},
			"Nts":           {"ssdp:alive"},
			"Server":        {"Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82"},
			"Usn":           {"uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc::urn:schemas-upnp-org:device:Basic:1"},
		}}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return err
	}
	return s.w.UDP(netip.AddrPortFrom(SegCamera.IP, 1900), netip.AddrPortFrom(ssdpGroup4, 1900), b.Bytes())
}

// phoneSearch writes the phone's M-SEARCH and the NVR's answer.
func (s *seg) phoneSearch() error {
	req := &http.Request{Method: "M-SEARCH", URL: &url.URL{Opaque: "*"}, Host: "239.255.255.250:1900", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Man": {`"ssdp:discover"`}, "Mx": {"2"}, "St": {"upnp:rootdevice"}, "User-Agent": {"Android/14 UPnP/1.1 Hik-Connect/5.3"}}}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return err
	}
	phone := netip.AddrPortFrom(SegPhone.IP, 50123)
	if err := s.w.UDP(phone, netip.AddrPortFrom(ssdpGroup4, 1900), b.Bytes()); err != nil {
		return err
	}
	resp := &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, ContentLength: 0, Header: http.Header{
		"Cache-Control": {"max-age=120"}, "Ext": {""}, "Location": {"http://192.168.50.108:80/upnp/device.xml"},
		"Server": {"Linux, UPnP/1.0, Dahua/2.800"}, "St": {"upnp:rootdevice"}, "Usn": {"uuid:Upnp-DHNVR-1_0-6c1c71112233::upnp:rootdevice"}}}
	b.Reset()
	if err := resp.Write(&b); err != nil {
		return err
	}
	return s.w.UDP(netip.AddrPortFrom(SegNVR.IP, 1900), phone, b.Bytes())
}

// WS-Discovery envelopes as encoding/xml writes them from structs.
type wsdEnvelope struct {
	XMLName xml.Name  `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  wsdHeader `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    wsdBody   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type wsdHeader struct {
	MessageID string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	RelatesTo string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing RelatesTo,omitempty"`
	To        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
	Action    string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
}

type wsdBody struct {
	Hello        *wsdMatch   `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Hello,omitempty"`
	Probe        *wsdProbe   `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Probe,omitempty"`
	ProbeMatches *wsdMatches `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery ProbeMatches,omitempty"`
}

type wsdProbe struct {
	Types string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Types"`
}

type wsdMatches struct {
	Match []wsdMatch `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery ProbeMatch"`
}

type wsdMatch struct {
	Address         string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing EndpointReference>Address"`
	Types           string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Types"`
	Scopes          string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Scopes"`
	XAddrs          string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery XAddrs"`
	MetadataVersion int    `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery MetadataVersion"`
}

const wsdNS = "http://schemas.xmlsoap.org/ws/2005/04/discovery"

// The camera's and the NVR's WS-Discovery descriptions.
var (
	cameraMatch = wsdMatch{Address: "urn:uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc", Types: "dn:NetworkVideoTransmitter tds:Device",
		Scopes: "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/MAC/44:47:cc:aa:bb:cc " +
			"onvif://www.onvif.org/hardware/DS-2CD2143G0-I onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G0-I " +
			"onvif://www.onvif.org/location/city/hangzhou onvif://www.onvif.org/firmware/V5.5.82",
		XAddrs: "http://192.168.50.64/onvif/device_service http://[fe80::4647:ccff:feaa:bbcc]/onvif/device_service", MetadataVersion: 10}
	nvrMatch = wsdMatch{Address: "uuid:a1b2c3d4-0000-0000-0000-6c1c71112233", Types: "dn:NetworkVideoTransmitter",
		Scopes: "onvif://www.onvif.org/location/country/china onvif://www.onvif.org/name/Dahua onvif://www.onvif.org/hardware/DHI-NVR4208-8P-4KS2 " +
			"onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/type/Network_Video_Storage onvif://www.onvif.org/Profile/G",
		XAddrs: "http://192.168.50.108/onvif/device_service", MetadataVersion: 1}
)

// wsd writes a Hello or ProbeMatches of device h.
func (s *seg) wsd(h SegmentHost, src, dst netip.AddrPort, kind string) error {
	m := cameraMatch
	if h.Name == SegNVR.Name {
		m = nvrMatch
	}
	e := wsdEnvelope{Header: wsdHeader{MessageID: fmt.Sprintf("uuid:00000000-0000-4000-8000-%012x", []byte(h.MAC)), To: "urn:schemas-xmlsoap-org:ws:2005:04:discovery",
		Action: wsdNS + "/" + kind}}
	switch kind {
	case "Hello":
		e.Body.Hello = &m
	case "ProbeMatches":
		e.Header.RelatesTo = "uuid:0a0b0c0d-1111-4222-8333-6c1c71112233"
		e.Header.To = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
		e.Body.ProbeMatches = &wsdMatches{Match: []wsdMatch{m}}
	}
	b, err := xml.Marshal(e)
	if err != nil {
		return err
	}
	return s.w.UDP(src, dst, append([]byte(xml.Header), b...))
}

// nvrProbe writes the NVR's Hello and its Probe for ONVIF cameras, and the camera's answer.
func (s *seg) nvrProbe() error {
	if err := s.wsd(SegNVR, netip.AddrPortFrom(SegNVR.IP, 3702), netip.AddrPortFrom(ssdpGroup4, 3702), "Hello"); err != nil {
		return err
	}
	e := wsdEnvelope{Header: wsdHeader{MessageID: "uuid:0a0b0c0d-1111-4222-8333-6c1c71112233", To: "urn:schemas-xmlsoap-org:ws:2005:04:discovery",
		Action: wsdNS + "/Probe"}, Body: wsdBody{Probe: &wsdProbe{Types: "dn:NetworkVideoTransmitter"}}}
	b, err := xml.Marshal(e)
	if err != nil {
		return err
	}
	nvr := netip.AddrPortFrom(SegNVR.IP, 37020)
	if err := s.w.UDP(nvr, netip.AddrPortFrom(ssdpGroup4, 3702), append([]byte(xml.Header), b...)); err != nil {
		return err
	}
	return s.wsd(SegCamera, netip.AddrPortFrom(SegCamera.IP, 3702), nvr, "ProbeMatches")
}

// llmnr writes the NVR asking for LAB-PC-07 and the PC's answer.
func (s *seg) llmnr() error {
	q := []layers.DNSQuestion{{Name: []byte("LAB-PC-07"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}
	query, err := serial(&layers.DNS{ID: 0x1234, Questions: q})
	if err != nil {
		return err
	}
	resp, err := serial(&layers.DNS{ID: 0x1234, QR: true, Questions: q, Answers: []layers.DNSResourceRecord{
		{Name: []byte("LAB-PC-07"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 30, IP: net.IP(SegPC.IP.AsSlice())}}})
	if err != nil {
		return err
	}
	nvr := netip.AddrPortFrom(SegNVR.IP, 53000)
	if err := s.w.UDP(nvr, netip.AddrPortFrom(llmnrGroup4, 5355), query); err != nil {
		return err
	}
	return s.w.UDP(netip.AddrPortFrom(SegPC.IP, 5355), nvr, resp)
}

// lookupAndTLS writes a DNS lookup of h through the router and a real crypto/tls session to it.
func (s *seg) lookupAndTLS(client netip.Addr, port uint16, h LabHost, v6 bool) error {
	query, resp, err := dnsExchange(port, h, v6)
	if err != nil {
		return err
	}
	addr := h.V4
	if v6 {
		addr = h.V6
	}
	// Lookups go over IPv4 to the router whatever the family asked for.
	src := client
	if v6 {
		for _, d := range SegmentHosts {
			if d.IP6 == client {
				src = d.IP
			}
		}
	}
	cl, srv := netip.AddrPortFrom(src, port), netip.AddrPortFrom(SegRouter.IP, 53)
	if err := s.w.UDP(cl, srv, query); err != nil {
		return err
	}
	if err := s.w.UDP(srv, cl, resp); err != nil {
		return err
	}
	var sess []Chunk
	if s.fixed {
		sess = fixedTLS(h.Name)
	} else if sess, err = TLSSession(TLSOptions{ServerName: h.Name, ALPN: []string{"http/1.1"}, Classic: true,
		Request: []byte("GET / HTTP/1.1\r\nHost: " + h.Name + "\r\n\r\n"), Response: []byte("HTTP/1.1 204 No Content\r\n\r\n")}); err != nil {
		return err
	}
	c, err := s.w.TCP(netip.AddrPortFrom(client, port+1000), netip.AddrPortFrom(addr, 443))
	if err != nil {
		return err
	}
	t := &Totals{Flows: 1}
	s.tls[SegmentFlow{client, netip.AddrPortFrom(addr, 443)}] = t
	for _, ch := range sess {
		if err := c.Send(ch.FromClient, ch.Data); err != nil {
			return err
		}
		if ch.FromClient {
			t.Out += int64(len(ch.Data))
		} else {
			t.In += int64(len(ch.Data))
		}
	}
	return c.Close()
}

// dahuaP2P writes the NVR's probe of Dahua's P2P server (a DHGET request over UDP 8800, as
// khoanguyen-3fc/dh-p2p documents it) and the answer, after a lookup of the server's name.
func (s *seg) dahuaP2P() error {
	nvr := netip.AddrPortFrom(SegNVR.IP, 40800)
	name := dnsmessage.MustNewName(DahuaP2P.Name + ".")
	q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	rb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 8800, Response: true, RecursionAvailable: true})
	rb.StartQuestions()
	rb.Question(q)
	rb.StartAnswers()
	rb.AResource(dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: DahuaP2P.V4.As4()})
	resp, err := rb.Finish()
	if err != nil {
		return err
	}
	qb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 8800, RecursionDesired: true})
	qb.StartQuestions()
	qb.Question(q)
	query, err := qb.Finish()
	if err != nil {
		return err
	}
	dnsCl, dnsSrv := netip.AddrPortFrom(SegNVR.IP, 40053), netip.AddrPortFrom(SegRouter.IP, 53)
	if err := s.w.UDP(dnsCl, dnsSrv, query); err != nil {
		return err
	}
	if err := s.w.UDP(dnsSrv, dnsCl, resp); err != nil {
		return err
	}
	p2p := netip.AddrPortFrom(DahuaP2P.V4, 8800)
	if err := s.w.UDP(nvr, p2p, []byte("DHGET /probe/p2psrv HTTP/1.1\r\nCSeq: 1\r\n\r\n")); err != nil {
		return err
	}
	if err := s.w.UDP(p2p, nvr, []byte("HTTP/1.1 200 OK\r\nCSeq: 1\r\n\r\n")); err != nil {
		return err
	}
	// The relay the P2P server hands out, on an address no lookup names: PTCP frames.
	ptcp := []byte("PTCP\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x01\x00")
	relay := netip.AddrPortFrom(DahuaRelay, 20000)
	if err := s.w.UDP(netip.AddrPortFrom(SegNVR.IP, 40801), relay, ptcp); err != nil {
		return err
	}
	return s.w.UDP(relay, netip.AddrPortFrom(SegNVR.IP, 40801), ptcp)
}

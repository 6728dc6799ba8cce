package devices

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/audit/destinations"
	"droneaudit/internal/netfixture"
)

// segmentCapture writes the generated lab segment (netfixture.GenerateSegment: real DHCP, mDNS,
// SSDP, LLMNR, WS-Discovery, DNS and TLS encoders) and returns its path and the payload bytes of
// its TLS sessions.
func segmentCapture(t testing.TB) (string, map[netfixture.SegmentFlow]*netfixture.Totals) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "segment.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	tls, err := netfixture.GenerateSegment(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, tls
}

// frameTotals is what an independent reader (gopacket's pcapgo and layers) counts per
// link-layer address: frames sent and frames received (unicast), the transport payload bytes of
// those, and the first and last of them.
type frameTotals struct {
	first, last                            time.Time
	framesOut, framesIn, bytesOut, bytesIn int64
}

// openPcap opens a pcap file with gopacket's reader; the file is closed when the test ends.
func openPcap(t testing.TB, path string) *pcapgo.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func countFrames(t testing.TB, path string) map[string]*frameTotals {
	t.Helper()
	r := openPcap(t, path)
	out := map[string]*frameTotals{}
	get := func(mac []byte, ts time.Time) *frameTotals {
		k := netHW(mac)
		ft := out[k]
		if ft == nil {
			ft = &frameTotals{first: ts}
			out[k] = ft
		}
		if ts.Before(ft.first) {
			ft.first = ts
		}
		if ts.After(ft.last) {
			ft.last = ts
		}
		return ft
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ts := ci.Timestamp.UTC()
		payload := 0
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if tl := pkt.TransportLayer(); tl != nil {
			payload = len(tl.LayerPayload())
		}
		src := get(data[6:12], ts)
		src.framesOut++
		src.bytesOut += int64(payload)
		if data[0]&1 == 0 {
			dst := get(data[0:6], ts)
			dst.framesIn++
			dst.bytesIn += int64(payload)
		}
	}
}

func netHW(b []byte) string {
	v, _ := macBits(b)
	return macString(v)
}

func at(ms int) time.Time { return netfixture.Start.Add(time.Duration(ms) * time.Millisecond) }

func udp(ip string, port uint16, app, owner, scope string, first, last, flows int, out, in int64) Contact {
	return Contact{IP: ip, Port: port, Protocol: "udp", App: app, Names: []string{}, Owner: owner, Scope: scope, Flows: flows,
		BytesOut: out, BytesIn: in, First: at(first), Last: at(last)}
}

// tlsTo is a TLS contact whose payload bytes come from the generator's sessions.
func tlsTo(ip string, name, owner, country string, asn uint32, first, last int) Contact {
	return Contact{IP: ip, Port: 443, Protocol: "tcp", App: "tls", Names: []string{name}, Owner: owner, Country: country, ASN: asn,
		Scope: destinations.ScopeInternet, Flows: 1, First: at(first), Last: at(last)}
}

// expectedRows are the device rows of the generated segment, in MAC order. Frame counts and
// times are filled from countFrames, TLS payload bytes from the generator.
func expectedRows() []Row {
	none := []string{}
	empty := func(r Row) Row {
		for _, l := range []*[]string{&r.ClassSigns, &r.IPv4, &r.IPv6, &r.DHCP.HostNames, &r.DHCP.FQDNs, &r.DHCP.VendorClasses, &r.DHCP.Fingerprints,
			&r.MDNS.Names, &r.MDNS.Services, &r.LLMNRNames, &r.SSDP.Servers, &r.SSDP.USNs, &r.SSDP.Locations, &r.SSDP.Types, &r.SSDP.UserAgents,
			&r.ONVIF.Endpoints, &r.ONVIF.Types, &r.ONVIF.XAddrs, &r.ONVIF.Models, &r.ONVIF.Names, &r.ONVIF.Firmware, &r.ONVIF.Locations,
			&r.ONVIF.Profiles, &r.Owners, &r.UPnP.FriendlyNames, &r.UPnP.Manufacturers, &r.UPnP.ModelNames, &r.UPnP.ModelNumbers,
			&r.UPnP.Serials, &r.UPnP.UDNs, &r.SADP.Models, &r.SADP.Serials, &r.SADP.Firmware} {
			if *l == nil {
				*l = none
			}
		}
		if r.MDNS.Instances == nil {
			r.MDNS.Instances = []Instance{}
		}
		if r.Destinations == nil {
			r.Destinations = []Contact{}
		}
		return r
	}
	const (
		bcast     = destinations.ScopeBroadcast
		multicast = destinations.ScopeLabNetwork
		private   = destinations.ScopeLabNetwork
		unknown   = destinations.OwnerUnknown
	)
	return []Row{
		empty(Row{MAC: "44:47:cc:aa:bb:cc", Vendor: "Hangzhou Hikvision Digital Technology Co.,Ltd.", OUI: "4447CC", OUIRegistry: "MA-L", Class: ClassHikvision,
			ClassSigns: []string{"hikvision: oui: Hangzhou Hikvision Digital Technology Co.,Ltd.", "hikvision: onvif name: HIKVISION DS-2CD2143G0-I",
				"hikvision: ssdp server: Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82", "hikvision: mdns instance: HIKVISION DS-2CD2143G0-I"},
			IPv4: []string{"192.168.50.64"}, IPv6: []string{"fe80::4647:ccff:feaa:bbcc"},
			DHCP: DHCP{HostNames: []string{"IPC-Front"}, VendorClasses: []string{"udhcp 1.20.2"}, Fingerprints: []string{"1,3,6,12,15,28,42"}},
			MDNS: MDNS{Names: []string{"Cam-Front.local"}, Services: []string{"_http._tcp.local"}, Instances: []Instance{{Name: "HIKVISION DS-2CD2143G0-I",
				Service: "_http._tcp.local", Host: "Cam-Front.local", Port: 80, TXT: []string{"fw=V5.5.82", "model=DS-2CD2143G0-I"}}}},
			SSDP: SSDP{Servers: []string{"Linux/3.10 UPnP/1.0 HIKVISION/V5.5.82"}, USNs: []string{"uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc::urn:schemas-upnp-org:device:Basic:1"},
				Locations: []string{"http://192.168.50.64:49152/description.xml"}, Types: []string{"urn:schemas-upnp-org:device:Basic:1"}},
			ONVIF: ONVIF{Endpoints: []string{"urn:uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc"}, Types: []string{"Device", "NetworkVideoTransmitter", "video_encoder"},
				XAddrs: []string{"http://192.168.50.64/onvif/device_service", "http://[fe80::4647:ccff:feaa:bbcc]/onvif/device_service"},
				Models: []string{"DS-2CD2143G0-I"}, Names: []string{"HIKVISION DS-2CD2143G0-I"}, Firmware: []string{"V5.5.82"}, Locations: []string{"city/hangzhou"},
				Profiles: []string{"Streaming"}},
			Destinations: []Contact{
				udp("255.255.255.255", 67, "dhcp", unknown, bcast, 6, 6, 1, 301, 0),
				udp("224.0.0.251", 5353, "mdns", unknown, multicast, 11, 11, 1, 376, 0),
				udp("ff02::fb", 5353, "mdns", unknown, multicast, 12, 12, 1, 376, 0),
				udp("239.255.255.250", 1900, "ssdp", unknown, multicast, 13, 13, 1, 322, 0),
				udp("239.255.255.250", 3702, "ws-discovery", unknown, multicast, 14, 14, 1, 1575, 0),
				udp("192.168.50.108", 37020, "ws-discovery", unknown, private, 17, 17, 1, 1817, 0),
				udp("192.168.50.1", 53, "dns", unknown, private, 22, 23, 1, 41, 57),
				tlsTo("47.91.88.171", "litedev.hik-connect.com", destinations.OwnerHikvision, "DE", 45102, 24, 35),
			},
			Owners: []string{destinations.OwnerHikvision}, InternetContacts: 1}),
		empty(Row{MAC: "50:c7:bf:01:02:03", Vendor: "TP-LINK TECHNOLOGIES CO.,LTD.", OUI: "50C7BF", OUIRegistry: "MA-L", IPv4: []string{"192.168.50.1"},
			Gateway: true, DHCP: DHCP{Server: true},
			Destinations: []Contact{udp("255.255.255.255", 68, "dhcp", unknown, bcast, 1, 9, 1, 1380, 0)}}),
		empty(Row{MAC: "60:60:1f:aa:00:01", Vendor: "SZ DJI TECHNOLOGY CO.,LTD", OUI: "60601F", OUIRegistry: "MA-L", Class: ClassDJI,
			ClassSigns: []string{"dji: oui: SZ DJI TECHNOLOGY CO.,LTD", "dji: dhcp host name: DJI-RC-Pro"}, IPv4: []string{"192.168.50.30"},
			DHCP: DHCP{HostNames: []string{"DJI-RC-Pro"}, VendorClasses: []string{"android-dhcp-10"}, Fingerprints: []string{"1,3,6,15,26,28,51,58,59,43"}},
			Destinations: []Contact{
				udp("255.255.255.255", 67, "dhcp", unknown, bcast, 0, 2, 1, 604, 0),
				udp("192.168.50.1", 53, "dns", unknown, private, 64, 65, 1, 37, 53),
				tlsTo("47.91.161.230", "flysafe-api.dji.com", destinations.OwnerDJI, "HK", 45102, 66, 77),
			},
			Owners: []string{destinations.OwnerDJI}, InternetContacts: 1}),
		empty(Row{MAC: "6c:1c:71:11:22:33", Vendor: "Zhejiang Dahua Technology Co., Ltd.", OUI: "6C1C71", OUIRegistry: "MA-L", Class: ClassDahua,
			ClassSigns: []string{"dahua: oui: Zhejiang Dahua Technology Co., Ltd.", "dahua: onvif name: Dahua", "dahua: ssdp server: Linux, UPnP/1.0, Dahua/2.800"},
			IPv4:       []string{"192.168.50.108"},
			DHCP:       DHCP{HostNames: []string{"NVR-Lab"}, Fingerprints: []string{"1,3,6,12,15,28,42,40"}},
			SSDP: SSDP{Servers: []string{"Linux, UPnP/1.0, Dahua/2.800"}, USNs: []string{"uuid:Upnp-DHNVR-1_0-6c1c71112233::upnp:rootdevice"},
				Locations: []string{"http://192.168.50.108:80/upnp/device.xml"}, Types: []string{"upnp:rootdevice"}},
			ONVIF: ONVIF{Endpoints: []string{"uuid:a1b2c3d4-0000-0000-0000-6c1c71112233"}, Types: []string{"NetworkVideoTransmitter", "Network_Video_Storage"},
				XAddrs: []string{"http://192.168.50.108/onvif/device_service"}, Models: []string{"DHI-NVR4208-8P-4KS2"}, Names: []string{"Dahua"},
				Locations: []string{"country/china"}, Profiles: []string{"G", "Streaming"}},
			Destinations: []Contact{
				udp("255.255.255.255", 67, "dhcp", unknown, bcast, 8, 8, 1, 286, 0),
				udp("239.255.255.250", 3702, "ws-discovery", unknown, multicast, 15, 16, 2, 2205, 0),
				udp("192.168.50.23", 50123, "ssdp", unknown, private, 19, 19, 1, 240, 0),
				udp("224.0.0.252", 5355, "llmnr", unknown, multicast, 20, 20, 1, 27, 0),
				udp("192.168.50.1", 53, "dns", unknown, private, 78, 79, 1, 38, 74),
				func() Contact {
					c := udp("47.254.34.11", 8800, "dahua-p2p", destinations.OwnerDahua, destinations.ScopeInternet, 80, 81, 1, 41, 28)
					c.Names, c.Country, c.ASN = []string{"www.easy4ipcloud.com"}, "US", 45102
					return c
				}(),
				func() Contact {
					c := udp("47.254.40.40", 20000, "dahua-p2p", destinations.OwnerDahua, destinations.ScopeInternet, 82, 83, 1, 28, 28)
					c.Country, c.ASN = "US", 45102
					return c
				}(),
			},
			Owners: []string{destinations.OwnerDahua}, InternetContacts: 2}),
		empty(Row{MAC: "da:a1:19:2b:3c:4d", Randomised: true, IPv4: []string{"192.168.50.23"}, IPv6: []string{"2a02:1810:50::23"},
			DHCP: DHCP{HostNames: []string{"Pixel-7"}, VendorClasses: []string{"android-dhcp-14"}, Fingerprints: []string{"1,3,6,15,26,28,51,58,59,43,114,108"}},
			SSDP: SSDP{UserAgents: []string{"Android/14 UPnP/1.1 Hik-Connect/5.3"}},
			Destinations: []Contact{
				udp("255.255.255.255", 67, "dhcp", unknown, bcast, 4, 4, 1, 307, 0),
				udp("239.255.255.250", 1900, "ssdp", unknown, multicast, 18, 18, 1, 150, 0),
				udp("192.168.50.1", 53, "dns", unknown, private, 36, 51, 2, 80, 124),
				tlsTo("3.120.0.20", "apiieu.hik-connect.com", destinations.OwnerHikvision, "DE", 16509, 38, 49),
				tlsTo("2a05:d014:50::20", "apiieu.hik-connect.com", destinations.OwnerHikvision, "DE", 16509, 52, 63),
			},
			Owners: []string{destinations.OwnerHikvision}, InternetContacts: 2}),
		empty(Row{MAC: "f4:8e:38:0a:0b:0c", Vendor: "Dell Inc.", OUI: "F48E38", OUIRegistry: "MA-L", IPv4: []string{"192.168.50.40"},
			LLMNRNames:   []string{"LAB-PC-07"},
			Destinations: []Contact{udp("192.168.50.108", 53000, "llmnr", unknown, private, 21, 21, 1, 52, 0)}}),
	}
}

// TestSegmentRows checks every field of every device row of the generated segment, built with
// one flow shard and with four: the rows are the same.
func TestSegmentRows(t *testing.T) {
	path, tls := segmentCapture(t)
	frames := countFrames(t, path)
	var first []byte
	for _, shards := range []int{1, 4} {
		inv, err := Build(t.Context(), []string{path}, Options{Destinations: destinations.Options{Shards: shards}})
		if err != nil {
			t.Fatal(err)
		}
		want := expectedRows()
		if len(inv.Devices) != len(want) {
			t.Fatalf("%d shards: %d devices, want %d", shards, len(inv.Devices), len(want))
		}
		for i, w := range want {
			ft := frames[w.MAC]
			w.First, w.Last, w.FramesOut, w.FramesIn, w.BytesOut, w.BytesIn = ft.first, ft.last, ft.framesOut, ft.framesIn, ft.bytesOut, ft.bytesIn
			for j := range w.Destinations {
				c := &w.Destinations[j]
				if c.App != "tls" {
					continue
				}
				client := firstAddr(w.IPv4)
				if netip.MustParseAddr(c.IP).Is6() {
					client = firstAddr(w.IPv6)
				}
				tot := tls[netfixture.SegmentFlow{Client: client, Server: netip.AddrPortFrom(netip.MustParseAddr(c.IP), 443)}]
				if tot == nil {
					t.Fatalf("no TLS session %v → %s", client, c.IP)
				}
				c.BytesOut, c.BytesIn = tot.Out, tot.In
			}
			got := inv.Devices[i]
			checkEvidence(t, path, got)
			w.Evidence = got.Evidence
			for j := range w.Destinations {
				if j < len(got.Destinations) {
					w.Destinations[j].Evidence = got.Destinations[j].Evidence
				}
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%d shards, device %d (%s): %s", shards, i, w.MAC, fieldDiff(got, w))
			}
		}
		b, _ := json.Marshal(inv)
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("the inventory with %d shards differs from the one with 1", shards)
		}
		if inv.Packets != 84 {
			t.Errorf("%d packets", inv.Packets)
		}
	}
}

// checkEvidence checks that a device and each of its contacts are located in the capture: its
// name and SHA-256, and a frame number and offset that frameAt finds there, sent by the device.
func checkEvidence(t *testing.T, path string, r Row) {
	t.Helper()
	sum := fileSHA256(t, path)
	check := func(what string, ev *Evidence) {
		if ev == nil {
			t.Errorf("%s: no evidence", what)
			return
		}
		if ev.Input != path || ev.SHA256 != sum || ev.Frame < 1 || ev.Offset < 24 {
			t.Errorf("%s: evidence %+v, want input %s sha256 %s", what, ev, path, sum)
			return
		}
		src, dst := frameAt(t, path, ev.Frame, ev.Offset)
		if src != r.MAC && dst != r.MAC {
			t.Errorf("%s: frame %d (offset %d) is %s → %s, not the device's", what, ev.Frame, ev.Offset, src, dst)
		}
	}
	check(r.MAC, r.Evidence)
	for _, c := range r.Destinations {
		check(r.MAC+" → "+c.IP, c.Evidence)
	}
}

func fileSHA256(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// frameAt reads the link-layer addresses of frame n (from 1) with pcapgo, and checks that the
// frame's record starts at offset (a pcap file: a 24-byte header, then 16 bytes before each
// frame).
func frameAt(t *testing.T, path string, n int, offset int64) (src, dst string) {
	t.Helper()
	r := openPcap(t, path)
	pos := int64(24)
	for i := 1; ; i++ {
		data, _, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if i == n {
			if pos != offset {
				t.Errorf("frame %d at offset %d, evidence says %d", n, pos, offset)
			}
			return netHW(data[6:12]), netHW(data[0:6])
		}
		pos += 16 + int64(len(data))
	}
}

func firstAddr(l []string) netip.Addr {
	if len(l) == 0 {
		return netip.Addr{}
	}
	return netip.MustParseAddr(l[0])
}

// fieldDiff lists the JSON fields in which two rows differ.
func fieldDiff(got, want Row) string {
	var g, w map[string]json.RawMessage
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	json.Unmarshal(gb, &g)
	json.Unmarshal(wb, &w)
	out := ""
	for k := range g {
		if string(g[k]) != string(w[k]) {
			out += fmt.Sprintf("\n  %s: got %s\n  %s  want %s", k, g[k], strings.Repeat(" ", len(k)), w[k])
		}
	}
	return out
}

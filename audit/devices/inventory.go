package devices

import (
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
)

// DHCP is what a device said about itself in DHCP requests.
type DHCP struct {
	HostNames     []string `json:"host_names"`     // option 12
	FQDNs         []string `json:"fqdns"`          // option 81
	VendorClasses []string `json:"vendor_classes"` // option 60, e.g. "android-dhcp-14", "MSFT 5.0"
	// Fingerprints are parameter request lists (option 55) as "1,3,6,15,…": the order is set by
	// the client's DHCP stack, so it tells operating systems apart (fingerbank.org keeps a
	// database of them).
	Fingerprints []string `json:"fingerprints"`
	Server       bool     `json:"server,omitempty"` // the device answered DHCP requests
}

// Instance is one DNS-SD service instance the device offered over mDNS.
type Instance struct {
	Name    string   `json:"name"`
	Service string   `json:"service"`
	Host    string   `json:"host,omitempty"`
	Port    uint16   `json:"port,omitempty"`
	TXT     []string `json:"txt,omitempty"`
}

// MDNS is what a device announced over multicast DNS.
type MDNS struct {
	Names     []string   `json:"names"`    // host names ("Cam-Front.local")
	Services  []string   `json:"services"` // service types ("_http._tcp.local")
	Instances []Instance `json:"instances"`
}

// SSDP is what a device announced over SSDP (UPnP discovery).
type SSDP struct {
	Servers    []string `json:"servers"` // SERVER: OS, UPnP version, product and version
	USNs       []string `json:"usns"`
	Locations  []string `json:"locations"`   // URLs of the device description
	Types      []string `json:"types"`       // device and service types (NT, ST)
	UserAgents []string `json:"user_agents"` // USER-AGENT of its searches
}

// ONVIF is what a device announced in WS-Discovery Hello and ProbeMatches messages.
type ONVIF struct {
	Endpoints []string `json:"endpoints"` // endpoint references (urn:uuid:…)
	Types     []string `json:"types"`     // NetworkVideoTransmitter, Device, video_encoder, …
	XAddrs    []string `json:"xaddrs"`    // service URLs
	Models    []string `json:"models"`    // "hardware" scope
	Names     []string `json:"names"`     // "name" scope
	Firmware  []string `json:"firmware"`  // a "firmware" scope, where the maker announces one
	Locations []string `json:"locations"` // "location" scopes
	Profiles  []string `json:"profiles"`  // ONVIF profiles (Streaming, G, T, …)
}

// UPnP is what a device's UPnP device description said of it (UPnP Device Architecture 2.0
// §2.3): the description is fetched over clear HTTP from the SSDP LOCATION, so a capture of
// the lab segment holds it when a control point on the segment asked.
type UPnP struct {
	FriendlyNames []string `json:"friendly_names"`
	Manufacturers []string `json:"manufacturers"`
	ModelNames    []string `json:"model_names"`
	ModelNumbers  []string `json:"model_numbers"`
	Serials       []string `json:"serial_numbers"`
	UDNs          []string `json:"udns"`
}

// SADP is what a device answered to a SADP search (Hikvision's discovery protocol, UDP 37020):
// its model, serial number and firmware, given to any host of the segment that asks.
type SADP struct {
	Models   []string `json:"models"`
	Serials  []string `json:"serial_numbers"`
	Firmware []string `json:"firmware"`
}

// Contact is a destination the device opened flows to, with the device's own share of the
// traffic and what the destination inventory knows of the destination.
type Contact struct {
	IP       string    `json:"ip"`
	Port     uint16    `json:"port"`
	Protocol string    `json:"protocol"`
	App      string    `json:"app,omitempty"`
	Names    []string  `json:"names"`
	Owner    string    `json:"owner"`
	Country  string    `json:"country,omitempty"`
	ASN      uint32    `json:"asn,omitempty"`
	Scope    string    `json:"scope"`
	Flows    int       `json:"flows"`
	BytesOut int64     `json:"bytes_out"` // payload bytes device → destination
	BytesIn  int64     `json:"bytes_in"`  // payload bytes destination → device
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	// Evidence is the first frame of the first flow to it.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Row is one device of the lab segment. The JSON field names are a stable interface.
type Row struct {
	// MAC is the device's link-layer address; "" for a device of a capture without link-layer
	// addresses (raw IP), known by its lab-scope address alone.
	MAC string `json:"mac"`
	// Vendor is the organisation the IEEE registered the address's prefix to, with the
	// assignment; Randomised says the address is locally administered (a phone's private Wi-Fi
	// address, a virtual interface) and so names no maker.
	Vendor      string `json:"vendor"`
	OUI         string `json:"oui,omitempty"`
	OUIRegistry string `json:"oui_registry,omitempty"`
	Randomised  bool   `json:"randomised"`
	// Class is the maker class the strongest sign points to (dji, hikvision, dahua, …; "" when
	// none does), and ClassSigns every sign found, strongest first, as "class: where: what".
	Class      string   `json:"class"`
	ClassSigns []string `json:"class_signs"`
	IPv4       []string `json:"ipv4"`
	IPv6       []string `json:"ipv6"`
	// Gateway is set for a device through which internet servers answered: a router, whose
	// frames carry those servers' addresses (not listed as its own).
	Gateway    bool     `json:"gateway,omitempty"`
	DHCP       DHCP     `json:"dhcp"`
	MDNS       MDNS     `json:"mdns"`
	LLMNRNames []string `json:"llmnr_names"`
	SSDP       SSDP     `json:"ssdp"`
	UPnP       UPnP     `json:"upnp"`
	SADP       SADP     `json:"sadp"`
	ONVIF      ONVIF    `json:"onvif"`
	// First and Last are the times of the first and last frame it sent or that was sent to it.
	// FramesOut and FramesIn count the packets of its TCP and UDP flows each way and the other
	// frames (ARP, ICMP, …) it sent or that were addressed to it; BytesOut and BytesIn are the
	// transport payload bytes of its flows each way, as the destination inventory counts them.
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	FramesOut int64     `json:"frames_out"`
	FramesIn  int64     `json:"frames_in"`
	BytesOut  int64     `json:"bytes_out"`
	BytesIn   int64     `json:"bytes_in"`
	// Destinations are the destinations it opened flows to, by first contact; Owners the owner
	// classes of those on the internet, and InternetContacts how many of them are.
	Destinations     []Contact `json:"destinations"`
	Owners           []string  `json:"owners"`
	InternetContacts int       `json:"internet_contacts"`
	// Evidence is the first frame it sent that was seen (nil for a device known only from what
	// others said of it).
	Evidence *Evidence `json:"evidence,omitempty"`
}

// OUIInfo names the vendor table used.
type OUIInfo struct {
	Version     string `json:"version"`
	Attribution string `json:"attribution"`
}

// Inventory is the result of Build.
type Inventory struct {
	Devices []Row                `json:"devices"`
	OUI     OUIInfo              `json:"oui"`
	GeoIP   destinations.GeoInfo `json:"geoip"`
	Notes   []decoders.Note      `json:"notes,omitempty"`
	Packets int64                `json:"packets"`
	// Destinations is the destination inventory of the same pass, which the rows are joined to.
	Destinations *destinations.Inventory `json:"-"`
}

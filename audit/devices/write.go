package devices

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/internal/safetext"
)

// WriteJSON writes the inventory as one JSON document: {"devices": [...], "oui": {...}, "geoip": {...}}.
func (inv *Inventory) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(inv)
}

var csvHeader = []string{"mac", "vendor", "oui", "randomised", "class", "ipv4", "ipv6", "gateway", "dhcp_host_names", "dhcp_vendor_classes",
	"dhcp_fingerprints", "dhcp_server", "mdns_names", "mdns_services", "mdns_instances", "llmnr_names", "ssdp_servers", "ssdp_types",
	"ssdp_locations", "onvif_types", "onvif_models", "onvif_names", "onvif_firmware", "onvif_locations", "onvif_xaddrs",
	"first", "last", "frames_out", "frames_in", "bytes_out", "bytes_in", "internet_contacts", "owners", "destinations", "class_signs",
	"upnp_names", "upnp_manufacturers", "upnp_models", "upnp_model_numbers", "upnp_serials", "sadp_models", "sadp_serials", "sadp_firmware"}

func join(l []string) string { return strings.Join(l, "; ") }

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// WriteCSV writes one CSV line per device with a header line; lists are joined with "; ".
func (inv *Inventory) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range inv.Devices {
		var inst, dests []string
		for _, i := range r.MDNS.Instances {
			inst = append(inst, instanceText(i))
		}
		for _, c := range r.Destinations {
			dests = append(dests, contactText(c))
		}
		rec := []string{r.MAC, r.Vendor, r.OUI, strconv.FormatBool(r.Randomised), r.Class, join(r.IPv4), join(r.IPv6), strconv.FormatBool(r.Gateway),
			join(r.DHCP.HostNames), join(r.DHCP.VendorClasses), join(r.DHCP.Fingerprints), strconv.FormatBool(r.DHCP.Server),
			join(r.MDNS.Names), join(r.MDNS.Services), join(inst), join(r.LLMNRNames), join(r.SSDP.Servers), join(r.SSDP.Types),
			join(r.SSDP.Locations), join(r.ONVIF.Types), join(r.ONVIF.Models), join(r.ONVIF.Names), join(r.ONVIF.Firmware),
			join(r.ONVIF.Locations), join(r.ONVIF.XAddrs), timeText(r.First), timeText(r.Last),
			strconv.FormatInt(r.FramesOut, 10), strconv.FormatInt(r.FramesIn, 10), strconv.FormatInt(r.BytesOut, 10), strconv.FormatInt(r.BytesIn, 10),
			strconv.Itoa(r.InternetContacts), join(r.Owners), join(dests), join(r.ClassSigns),
			join(r.UPnP.FriendlyNames), join(r.UPnP.Manufacturers), join(r.UPnP.ModelNames), join(r.UPnP.ModelNumbers), join(r.UPnP.Serials),
			join(r.SADP.Models), join(r.SADP.Serials), join(r.SADP.Firmware)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func instanceText(i Instance) string {
	s := fmt.Sprintf("%q %s", i.Name, i.Service)
	if i.Host != "" {
		s += fmt.Sprintf(" → %s:%d", i.Host, i.Port)
	}
	if len(i.TXT) > 0 {
		s += " [" + strings.Join(i.TXT, " ") + "]"
	}
	return s
}

func contactText(c Contact) string {
	s := fmt.Sprintf("%s/%s", addrPort(c.IP, c.Port), c.Protocol)
	if c.App != "" {
		s += " " + c.App
	}
	if len(c.Names) > 0 {
		s += " " + strings.Join(c.Names, ",")
	}
	where := c.Country
	if c.Scope != destinations.ScopeInternet {
		where = "(" + c.Scope + ")"
	}
	return fmt.Sprintf("%s %s %s: %s, %d B out, %d B in", s, c.Owner, where, count(c.Flows, "flow"), c.BytesOut, c.BytesIn)
}

// count writes "1 flow", "2 flows".
func count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func addrPort(ip string, port uint16) string {
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// WriteText writes one block per device for people, followed by the data attributions. Every
// line passes through safetext.
func (inv *Inventory) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	for _, r := range inv.Devices {
		head := r.MAC
		if head == "" {
			head = "(no link-layer address)"
		}
		vendor := r.Vendor
		switch {
		case r.Randomised:
			vendor = "randomised (locally administered) address"
		case vendor == "" && r.MAC != "":
			vendor = "unregistered prefix"
		case r.OUI != "":
			vendor += " (" + r.OUI + ")"
		}
		if vendor != "" {
			head += "  " + vendor
		}
		if r.Class != "" {
			head += "  class " + r.Class
		}
		ew.printf("DEVICE %s\n", head)
		line := func(label string, parts ...string) {
			var keep []string
			for _, p := range parts {
				if p != "" {
					keep = append(keep, p)
				}
			}
			if len(keep) > 0 {
				ew.printf("  %-10s %s\n", label, strings.Join(keep, "; "))
			}
		}
		labelled := func(label string, l []string) string {
			if len(l) == 0 {
				return ""
			}
			return label + " " + strings.Join(l, ", ")
		}
		addrs := append(append([]string{}, r.IPv4...), r.IPv6...)
		gw := ""
		if r.Gateway {
			gw = "gateway: internet servers answer through it"
		}
		line("addresses", strings.Join(addrs, " "), gw)
		if !r.First.IsZero() || r.FramesIn > 0 {
			seen := ""
			if !r.First.IsZero() {
				seen = timeText(r.First) + " to " + timeText(r.Last)
			}
			line("seen", seen, fmt.Sprintf("sent %s (%d B of payload); received %s (%d B)", count(r.FramesOut, "frame"), r.BytesOut, count(r.FramesIn, "frame"), r.BytesIn))
		}
		if e := r.Evidence; e != nil {
			line("evidence", fmt.Sprintf("first frame it sent: %s frame %d (offset %d), sha256 %s", e.Input, e.Frame, e.Offset, e.SHA256))
		}
		server := ""
		if r.DHCP.Server {
			server = "answers DHCP (a DHCP server)"
		}
		line("dhcp", labelled("host name", r.DHCP.HostNames), labelled("fqdn", r.DHCP.FQDNs), labelled("vendor class", quoted(r.DHCP.VendorClasses)),
			labelled("fingerprint", r.DHCP.Fingerprints), server)
		var inst []string
		for _, i := range r.MDNS.Instances {
			inst = append(inst, instanceText(i))
		}
		line("mdns", labelled("names", r.MDNS.Names), labelled("services", r.MDNS.Services), labelled("instances", inst))
		line("llmnr", labelled("names", r.LLMNRNames))
		line("ssdp", labelled("server", quoted(r.SSDP.Servers)), labelled("types", r.SSDP.Types), labelled("usn", r.SSDP.USNs),
			labelled("location", r.SSDP.Locations), labelled("searches as", quoted(r.SSDP.UserAgents)))
		line("onvif", labelled("types", r.ONVIF.Types), labelled("model", r.ONVIF.Models), labelled("name", r.ONVIF.Names),
			labelled("firmware", r.ONVIF.Firmware), labelled("location", r.ONVIF.Locations), labelled("profiles", r.ONVIF.Profiles),
			labelled("xaddrs", r.ONVIF.XAddrs), labelled("endpoint", r.ONVIF.Endpoints))
		line("upnp", labelled("name", quoted(r.UPnP.FriendlyNames)), labelled("manufacturer", quoted(r.UPnP.Manufacturers)),
			labelled("model", r.UPnP.ModelNames), labelled("model number", r.UPnP.ModelNumbers), labelled("serial", r.UPnP.Serials),
			labelled("udn", r.UPnP.UDNs))
		line("sadp", labelled("model", r.SADP.Models), labelled("serial", r.SADP.Serials), labelled("firmware", quoted(r.SADP.Firmware)))
		line("signs", r.ClassSigns...)
		if len(r.Destinations) > 0 {
			owners := ""
			if len(r.Owners) > 0 {
				owners = " (owners: " + strings.Join(r.Owners, ", ") + ")"
			}
			ew.printf("  %-10s %s, %d on the internet%s\n", "contacted", count(len(r.Destinations), "destination"), r.InternetContacts, owners)
			for _, c := range r.Destinations {
				ew.printf("  %-10s %s\n", "", contactText(c))
			}
		}
		ew.printf("\n")
	}
	ew.printf("%s from %s. Vendors: %s.\n", count(len(inv.Devices), "device"), count(inv.Packets, "packet"), inv.OUI.Version)
	ew.printf("%s\n", inv.OUI.Attribution)
	for _, a := range inv.GeoIP.Attribution {
		ew.printf("%s\n", a)
	}
	for _, n := range inv.Notes {
		ew.printf("note: %s\n", n.Line())
	}
	return ew.err
}

func quoted(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strconv.Quote(s)
	}
	return out
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

// printf writes one line (or an empty one) through safetext: names, versions and notes come from
// the capture, and a control character in them must not move the cursor or start a line.
func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		line, nl := strings.CutSuffix(fmt.Sprintf(format, args...), "\n")
		if nl {
			line = safetext.String(line) + "\n"
		} else {
			line = safetext.String(line)
		}
		_, e.err = io.WriteString(e.w, line)
	}
}

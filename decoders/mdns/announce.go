package mdns

import (
	"net/netip"
	"slices"
	"strings"
)

// Instance is one DNS-SD service instance (RFC 6763 §4.1): "<Instance>.<Service>.<Domain>".
type Instance struct {
	Name    string   // the instance label, e.g. "HIKVISION DS-2CD2143G0-I"
	Service string   // the service type with its domain, e.g. "_http._tcp.local"
	Host    string   // SRV target
	Port    uint16   // SRV port
	TXT     []string // key=value strings of its TXT record
}

// Announcement is what the sender of a message says about itself: the records of a response,
// and the records a querier proposes in the authority section while it probes for its names
// (RFC 6762 §8.2).
type Announcement struct {
	Hosts     []string     // owner names of A and AAAA records, and SRV targets
	Addrs     []netip.Addr // addresses of those records
	Services  []string     // service types offered ("_http._tcp.local"), from PTR records
	Instances []Instance
}

// metaQuery is the service type enumeration name (RFC 6763 §9).
const metaQuery = "_services._dns-sd._udp.local"

// Announcement collects the sender's own records. Records of a query's answer section (known
// answers, RFC 6762 §7.1) are what the querier already heard from others, so they are left out.
func (m *Message) Announcement() Announcement {
	var a Announcement
	inst := map[string]*Instance{}
	instance := func(full string) *Instance {
		if i, ok := inst[full]; ok {
			return i
		}
		name, svc, ok := splitInstance(full)
		if !ok {
			return nil
		}
		i := &Instance{Name: name, Service: svc}
		inst[full] = i
		return i
	}
	for _, r := range m.Records {
		if !m.Response && r.Section != Authority {
			continue
		}
		switch r.Type {
		case TypeA, TypeAAAA:
			a.Hosts = append(a.Hosts, r.Name)
			a.Addrs = append(a.Addrs, r.Addr)
		case TypePTR:
			switch {
			case strings.EqualFold(r.Name, metaQuery):
				a.Services = append(a.Services, r.Target)
			case isServiceType(r.Name):
				a.Services = append(a.Services, serviceOf(r.Name))
				instance(r.Target)
			}
		case TypeSRV:
			if i := instance(r.Name); i != nil {
				i.Host, i.Port = r.Target, r.Port
			}
			if r.Target != "" {
				a.Hosts = append(a.Hosts, r.Target)
			}
		case TypeTXT:
			if i := instance(r.Name); i != nil {
				i.TXT = append(i.TXT, r.TXT...)
			}
		}
	}
	a.Hosts = sortedSet(a.Hosts)
	a.Services = sortedSet(a.Services)
	slices.SortFunc(a.Addrs, netip.Addr.Compare)
	a.Addrs = slices.Compact(a.Addrs)
	for _, i := range inst {
		a.Instances = append(a.Instances, *i)
	}
	slices.SortFunc(a.Instances, func(x, y Instance) int {
		if c := strings.Compare(x.Service, y.Service); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	return a
}

// isServiceType reports whether name is "_service._proto.domain" or the subtype form
// "_sub-type._sub._service._proto.domain" (RFC 6763 §7.1).
func isServiceType(name string) bool {
	labels := strings.Split(name, ".")
	if len(labels) < 3 {
		return false
	}
	if len(labels) >= 5 && strings.EqualFold(labels[1], "_sub") {
		labels = labels[2:]
	}
	p := strings.ToLower(labels[1])
	return strings.HasPrefix(labels[0], "_") && (p == "_tcp" || p == "_udp")
}

// serviceOf strips a subtype: "_printer._sub._http._tcp.local" → "_http._tcp.local".
func serviceOf(name string) string {
	labels := strings.Split(name, ".")
	if len(labels) >= 5 && strings.EqualFold(labels[1], "_sub") {
		return strings.Join(labels[2:], ".")
	}
	return name
}

// splitInstance splits "<Instance>.<_service>.<_proto>.<domain>" at the service type. The
// instance label may itself hold dots, so the service type is found from the end.
func splitInstance(full string) (name, service string, ok bool) {
	labels := strings.Split(full, ".")
	for i := len(labels) - 2; i >= 1; i-- {
		p := strings.ToLower(labels[i])
		if (p == "_tcp" || p == "_udp") && strings.HasPrefix(labels[i-1], "_") && i-1 >= 1 {
			return strings.Join(labels[:i-1], "."), strings.Join(labels[i-1:], "."), true
		}
	}
	return "", "", false
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

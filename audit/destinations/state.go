package destinations

import (
	"net/netip"
)

// newState returns an empty partial inventory.
func newState() *state {
	return &state{rows: map[rowKey]*rowAcc{}, dnsName: map[netip.Addr]map[string]struct{}{}, echName: map[string]bool{},
		dhcp: map[string]string{}, arp: map[netip.Addr]string{}, queries: map[string]struct{}{}}
}

// merge adds a worker's partial inventory to st.
func (st *state) merge(o *state) {
	for k, a := range o.rows {
		b := st.acc(k)
		for n := range a.names {
			b.names[n] = struct{}{}
		}
		b.bytesOut += a.bytesOut
		b.bytesIn += a.bytesIn
		b.flows += a.flows
		if b.first.IsZero() || (!a.first.IsZero() && a.first.Before(b.first)) {
			b.first = a.first
		}
		if a.last.After(b.last) {
			b.last = a.last
		}
		for ip, mac := range a.devices {
			if b.devices[ip] == "" {
				b.devices[ip] = mac
			}
		}
		if b.app == "" {
			b.app = a.app
		}
		for f := range a.flags {
			b.flags[f] = struct{}{}
		}
		for j := range a.ja4 {
			if len(b.ja4) < 16 {
				b.ja4[j] = struct{}{}
			}
		}
		for j := range a.ja3 {
			if len(b.ja3) < 16 {
				b.ja3[j] = struct{}{}
			}
		}
	}
	for ip, names := range o.dnsName {
		set := st.dnsName[ip]
		if set == nil {
			set = map[string]struct{}{}
			st.dnsName[ip] = set
		}
		for n := range names {
			if len(set) < 64 {
				set[n] = struct{}{}
			}
		}
	}
	for n := range o.echName {
		st.echName[n] = true
	}
	for mac, h := range o.dhcp {
		st.dhcp[mac] = h
	}
	for ip, mac := range o.arp {
		st.arp[ip] = mac
	}
	for q := range o.queries {
		st.queries[q] = struct{}{}
	}
	st.brokers = append(st.brokers, o.brokers...)
	st.notes = append(st.notes, o.notes...)
}

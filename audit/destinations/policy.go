package destinations

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Validate checks the policy and writes every value in its canonical form: owner classes by their
// full name (an alias such as "analytics" becomes "analytics-sdk"), countries in upper case. An
// unknown owner class, a country that is no ISO 3166-1 alpha-2 code and a host pattern that is
// neither a name, "*.suffix", an address nor a CIDR prefix are errors naming the key and the
// value. classes are the further owner classes the configuration's owner rules define.
func (p *Policy) Validate(classes []string) error {
	for i, o := range p.DenyOwners {
		c, ok := OwnerClass(o, classes)
		if !ok {
			return fmt.Errorf("deny_owners: %q is no owner class (want one of %s)", o, strings.Join(ClassNames(classes), ", "))
		}
		p.DenyOwners[i] = c
	}
	for i, c := range p.DenyCountries {
		if !IsCountryCode(c) {
			return fmt.Errorf("deny_countries: %q is no ISO 3166-1 alpha-2 country code (e.g. CN, RU, BE)", c)
		}
		p.DenyCountries[i] = strings.ToUpper(c)
	}
	for _, h := range p.DenyHosts {
		if err := CheckPattern(h); err != nil {
			return fmt.Errorf("deny_hosts: %v", err)
		}
	}
	return nil
}

// Policy says which destinations an acceptance test forbids. Hosts holds patterns in the
// OwnerRule syntax: an exact name, "*.suffix", an address or a CIDR prefix.
type Policy struct {
	DenyOwners    []string `json:"deny_owners" mapstructure:"deny_owners"`
	DenyCountries []string `json:"deny_countries" mapstructure:"deny_countries"` // ISO 3166-1 alpha-2
	DenyHosts     []string `json:"deny_hosts" mapstructure:"deny_hosts"`
}

// Violation is one destination the policy forbids, and why.
type Violation struct {
	Row    Row    `json:"destination"`
	Rule   string `json:"rule"`   // "owner", "country" or "host"
	Value  string `json:"value"`  // the denied owner, country or the matching pattern
	Reason string `json:"reason"` // a sentence for the report
}

// Violations lists, in row order, every rule each destination breaks. A destination that only
// received nothing (no bytes from the lab device) still counts: contact was made.
func (inv *Inventory) Violations(p Policy) []Violation {
	var out []Violation
	for _, r := range inv.Rows {
		if slices.ContainsFunc(p.DenyOwners, func(o string) bool { return strings.EqualFold(o, r.Owner) }) {
			out = append(out, Violation{Row: r, Rule: "owner", Value: r.Owner,
				Reason: fmt.Sprintf("%s is owned by a denied class %q", label(r), r.Owner)})
		}
		if r.Country != "" && slices.ContainsFunc(p.DenyCountries, func(c string) bool { return strings.EqualFold(c, r.Country) }) {
			out = append(out, Violation{Row: r, Rule: "country", Value: r.Country,
				Reason: fmt.Sprintf("%s is located in denied country %s", label(r), r.Country)})
		}
		ip, _ := netip.ParseAddr(r.IP)
		for _, h := range p.DenyHosts {
			rule := OwnerRule{Pattern: h}
			hit := rule.Match("", ip)
			for _, n := range r.Names {
				if n.Source != SourceECHOuter && rule.Match(n.Name, netip.Addr{}) {
					hit = true
				}
			}
			if hit {
				out = append(out, Violation{Row: r, Rule: "host", Value: h,
					Reason: fmt.Sprintf("%s matches denied host pattern %q", label(r), h)})
			}
		}
	}
	return out
}

// label names a row for a sentence: its first name, or its address.
func label(r Row) string {
	for _, n := range r.Names {
		if n.Source != SourceECHOuter {
			return fmt.Sprintf("%s (%s:%d/%s)", n.Name, r.IP, r.Port, r.Protocol)
		}
	}
	return fmt.Sprintf("%s:%d/%s", r.IP, r.Port, r.Protocol)
}

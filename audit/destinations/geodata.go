package destinations

import (
	_ "embed" // the tables below
	"net/netip"
	"sort"
)

// The geolocation data compiled into the binary, searched where it lies in read-only memory:
// nothing is decoded or copied at start, and a lookup touches a few pages. The tables come from
// the pinned npm packages @ip-location-db/dbip-country 2.3.2026060120 (DB-IP IP to Country Lite)
// and @ip-location-db/asn 2.3.2026061719 (RouteViews, DB-IP, NRO), all CC BY 4.0, converted by
// geogen (format in geogen/main.go, provenance and licences in geodata/).
var (
	//go:embed geodata/asn4-start-1.bin
	gdAsn4Start1 string
	//go:embed geodata/asn4-start-2.bin
	gdAsn4Start2 string
	//go:embed geodata/asn4-val-1.bin
	gdAsn4Val1 string
	//go:embed geodata/asn4-val-2.bin
	gdAsn4Val2 string
	//go:embed geodata/asn6-hi-1.bin
	gdAsn6Hi1 string
	//go:embed geodata/asn6-val-1.bin
	gdAsn6Val1 string
	//go:embed geodata/asnorg-index-1.bin
	gdAsnorgIndex1 string
	//go:embed geodata/asnorg-names-1.bin
	gdAsnorgNames1 string
	//go:embed geodata/asnorg-names-2.bin
	gdAsnorgNames2 string
	//go:embed geodata/cc4-start-1.bin
	gdCc4Start1 string
	//go:embed geodata/cc4-val-1.bin
	gdCc4Val1 string
	//go:embed geodata/cc6-hi-1.bin
	gdCc6Hi1 string
	//go:embed geodata/cc6-hi-2.bin
	gdCc6Hi2 string
	//go:embed geodata/cc6-val-1.bin
	gdCc6Val1 string
)

// Names of the embedded databases, for reports.
const (
	BuiltinCountryVersion = "@ip-location-db/dbip-country 2.3.2026060120 (DB-IP IP to Country Lite, embedded)"
	BuiltinASNVersion     = "@ip-location-db/asn 2.3.2026061719 (RouteViews, DB-IP, NRO; embedded)"
)

// chunks is one fixed-width big-endian array cut into several embedded files.
type chunks struct {
	parts []string
	width int
}

func (c chunks) len() int {
	n := 0
	for _, p := range c.parts {
		n += len(p) / c.width
	}
	return n
}

// at returns the bytes of element i.
func (c chunks) at(i int) string {
	off := i * c.width
	for _, p := range c.parts {
		if off < len(p) {
			return p[off : off+c.width]
		}
		off -= len(p)
	}
	return ""
}

func (c chunks) u32(i int) uint32 { return u32(c.at(i), 0) }
func (c chunks) u64(i int) uint64 { return uint64(u32(c.at(i), 0))<<32 | uint64(u32(c.at(i), 4)) }

func u32(s string, i int) uint32 {
	return uint32(s[i])<<24 | uint32(s[i+1])<<16 | uint32(s[i+2])<<8 | uint32(s[i+3])
}

// table is one embedded range list: starts (uint32 IPv4, or the high 64 bits of IPv6) and values.
type table struct {
	v4start, v4val chunks
	v6hi, v6val    chunks
}

var (
	asnTable = table{
		v4start: chunks{[]string{gdAsn4Start1, gdAsn4Start2}, 4}, v4val: chunks{[]string{gdAsn4Val1, gdAsn4Val2}, 4},
		v6hi: chunks{[]string{gdAsn6Hi1}, 8}, v6val: chunks{[]string{gdAsn6Val1}, 4},
	}
	countryTable = table{
		v4start: chunks{[]string{gdCc4Start1}, 4}, v4val: chunks{[]string{gdCc4Val1}, 2},
		v6hi: chunks{[]string{gdCc6Hi1, gdCc6Hi2}, 8}, v6val: chunks{[]string{gdCc6Val1}, 2},
	}
	orgIndex = chunks{[]string{gdAsnorgIndex1}, 8}
	orgNames = []string{gdAsnorgNames1, gdAsnorgNames2}
)

// ok reports whether the table's arrays agree in length.
func (t *table) ok() bool {
	return t.v4start.len() > 0 && t.v4start.len() == t.v4val.len() && t.v6hi.len() > 0 && t.v6hi.len() == t.v6val.len()
}

// find returns the index of the range holding a, or -1.
func (t *table) find(a netip.Addr) (i int, v6 bool) {
	if a.Is4() {
		b := a.As4()
		v := u32(string(b[:]), 0)
		return sort.Search(t.v4start.len(), func(i int) bool { return t.v4start.u32(i) > v }) - 1, false
	}
	b := a.As16()
	hi := uint64(u32(string(b[:]), 0))<<32 | uint64(u32(string(b[:]), 4))
	return sort.Search(t.v6hi.len(), func(i int) bool { return t.v6hi.u64(i) > hi }) - 1, true
}

// builtinCountry returns the ISO 3166-1 alpha-2 code of a public address, or "".
func builtinCountry(a netip.Addr) string {
	i, v6 := countryTable.find(a)
	if i < 0 {
		return ""
	}
	var c string
	if v6 {
		c = countryTable.v6val.at(i)
	} else {
		c = countryTable.v4val.at(i)
	}
	if c == "" || c[0] == 0 || c == "ZZ" {
		return ""
	}
	return c
}

// builtinASN returns the AS number and organisation of a, or 0 and "".
func builtinASN(a netip.Addr) (uint32, string) {
	i, v6 := asnTable.find(a)
	if i < 0 {
		return 0, ""
	}
	var asn uint32
	if v6 {
		asn = asnTable.v6val.u32(i)
	} else {
		asn = asnTable.v4val.u32(i)
	}
	if asn == 0 {
		return 0, ""
	}
	return asn, builtinOrg(asn)
}

// builtinOrg returns the organisation name of an AS number from the embedded index.
func builtinOrg(asn uint32) string {
	n := orgIndex.len()
	i := sort.Search(n, func(i int) bool { return orgIndex.u32(i) >= asn })
	if i >= n || orgIndex.u32(i) != asn {
		return ""
	}
	start := 0
	if i > 0 {
		start = int(u32(orgIndex.at(i-1), 4))
	}
	end := int(u32(orgIndex.at(i), 4))
	for _, names := range orgNames {
		if start < len(names) {
			if end > len(names) || start > end {
				return ""
			}
			return names[start:end]
		}
		start -= len(names)
		end -= len(names)
	}
	return ""
}

package destinations

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// GeoInfo describes the databases in use, for reports (capture-and-performance.md §6.2 asks
// every report to name them and carry their attribution).
type GeoInfo struct {
	CountryDB   string   `json:"country_db"`
	ASNDB       string   `json:"asn_db,omitempty"`
	Attribution []string `json:"attribution"`
}

// GeoIP answers country and AS number for public addresses, offline.
type GeoIP struct {
	countries *rangeTable // nil: the built-in table
	asns      *rangeTable // nil: the built-in table when builtinAS is set
	builtinAS bool
	Info      GeoInfo
}

// Country returns the ISO 3166-1 alpha-2 code of a, or "" when unknown.
func (g *GeoIP) Country(a netip.Addr) string {
	a = lookupAddr(a)
	if g.countries != nil {
		if r, ok := g.countries.find(a); ok {
			return r.text
		}
		return ""
	}
	return builtinCountry(a)
}

// ASN returns the AS number and organisation of a, or 0 and "" when unknown.
func (g *GeoIP) ASN(a netip.Addr) (uint32, string) {
	if g.asns == nil {
		return builtinASN(lookupAddr(a))
	}
	if r, ok := g.asns.find(lookupAddr(a)); ok {
		return r.num, r.text
	}
	return 0, ""
}

// GeoConfig names database files that replace the built-in data: CSV files in the
// ip-location-db layout ("start,end,country_code" and "start,end,asn,org"), optionally gzipped.
type GeoConfig struct {
	CountryDB          string `mapstructure:"country_db"`
	ASNDB              string `mapstructure:"asn_db"`
	CountryAttribution string `mapstructure:"country_attribution"`
	ASNAttribution     string `mapstructure:"asn_attribution"`
}

// DBIPAttribution and ASNAttribution are the notices the CC BY 4.0 data asks for
// (capture-and-performance.md §6.2): the built-in tables and ip-location-db CSV files.
const (
	DBIPAttribution = "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"
	ASNAttribution  = "ASN data: RouteViews, DB-IP, NRO — CC BY 4.0"
)

// NewGeoIP opens the configured databases, falling back to the built-in ones.
func NewGeoIP(c GeoConfig) (*GeoIP, error) {
	g := &GeoIP{}
	if c.CountryDB != "" {
		t, err := loadRanges(c.CountryDB, false)
		if err != nil {
			return nil, err
		}
		g.countries = t
		g.Info.CountryDB = c.CountryDB
		g.Info.Attribution = append(g.Info.Attribution, cmp.Or(c.CountryAttribution, DBIPAttribution))
	} else {
		if !countryTable.ok() {
			return nil, fmt.Errorf("destinations: the built-in country table is damaged")
		}
		g.Info.CountryDB = BuiltinCountryVersion
		g.Info.Attribution = append(g.Info.Attribution, DBIPAttribution)
	}
	if c.ASNDB != "" {
		t, err := loadRanges(c.ASNDB, true)
		if err != nil {
			return nil, err
		}
		g.asns = t
		g.Info.ASNDB = c.ASNDB
		g.Info.Attribution = append(g.Info.Attribution, cmp.Or(c.ASNAttribution, ASNAttribution))
	} else {
		if !asnTable.ok() {
			return nil, fmt.Errorf("destinations: the built-in AS table is damaged")
		}
		g.Info.ASNDB = BuiltinASNVersion
		g.Info.Attribution = append(g.Info.Attribution, ASNAttribution)
	}
	return g, nil
}

type ipRange struct {
	start, end netip.Addr
	num        uint32
	text       string
}

// rangeTable is a sorted, non-overlapping list of address ranges searched by binary search.
type rangeTable struct{ r []ipRange }

func (t *rangeTable) find(a netip.Addr) (ipRange, bool) {
	i, _ := slices.BinarySearchFunc(t.r, a, func(r ipRange, a netip.Addr) int {
		if r.end.Less(a) {
			return -1
		}
		if a.Less(r.start) {
			return 1
		}
		return 0
	})
	if i < len(t.r) && !a.Less(t.r[i].start) && !t.r[i].end.Less(a) {
		return t.r[i], true
	}
	return ipRange{}, false
}

// maxRangeLine bounds one CSV line; ip-location-db lines are under 200 bytes.
const maxRangeLine = 4096

func loadRanges(path string, asn bool) (*rangeTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = gz
	}
	return readRanges(r, path, asn)
}

func readRanges(r io.Reader, name string, asn bool) (*rangeTable, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxRangeLine)
	t := &rangeTable{}
	orgs := map[string]string{} // interned organisation names
	line := 0
	for sc.Scan() {
		line++
		fields := strings.SplitN(sc.Text(), ",", 4)
		if len(fields) < 3 {
			continue
		}
		s, err1 := netip.ParseAddr(strings.TrimSpace(fields[0]))
		e, err2 := netip.ParseAddr(strings.TrimSpace(fields[1]))
		if err1 != nil || err2 != nil {
			if line == 1 {
				continue // a header line
			}
			return nil, fmt.Errorf("%s: line %d: bad address range", name, line)
		}
		rg := ipRange{start: s.Unmap(), end: e.Unmap()}
		if asn {
			n, err := strconv.ParseUint(strings.TrimSpace(fields[2]), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: bad AS number %q", name, line, fields[2])
			}
			rg.num = uint32(n)
			if len(fields) == 4 {
				o := strings.Trim(strings.TrimSpace(fields[3]), `"`)
				if v, ok := orgs[o]; ok {
					o = v
				} else {
					orgs[o] = o
				}
				rg.text = o
			}
		} else {
			rg.text = strings.ToUpper(strings.TrimSpace(fields[2]))
		}
		t.r = append(t.r, rg)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	slices.SortFunc(t.r, func(a, b ipRange) int { return a.start.Compare(b.start) })
	return t, nil
}

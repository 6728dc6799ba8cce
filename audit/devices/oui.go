package devices

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // the vendor table
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// The IEEE vendor table compiled into the binary (ouidata/README.md): made by ouigen from the
// pinned Debian package ieee-data 20220827.1.
//
//go:embed ouidata/oui.tsv.gz
var ouiTable []byte

// Names of the embedded table, for reports.
const (
	OUIVersion     = "IEEE Registration Authority public listing (MA-L, MA-M, MA-S, IAB) from Debian ieee-data 20220827.1, embedded"
	OUIAttribution = "MAC vendors: IEEE Registration Authority public listing (ieee-data 20220827.1)"
)

// Vendor is what the address of an interface says about who made it.
type Vendor struct {
	// Org is the organisation the IEEE registered the address's prefix to; "" when the prefix
	// is not registered or the address is locally administered.
	Org string `json:"org,omitempty"`
	// Assignment is the registered prefix in hex as the IEEE lists it ("60601F", "70B3D51"),
	// and Registry the registry it is from: MA-L (24 bits), MA-M (28), MA-S or IAB (36).
	Assignment string `json:"assignment,omitempty"`
	Registry   string `json:"registry,omitempty"`
	// Local is set for a locally administered address (bit 0x02 of the first octet): chosen by
	// software, such as the randomised "private" addresses of phones, so it names no maker.
	Local bool `json:"local"`
}

// ouiEntry is one assignment of the table.
type ouiEntry struct{ org, registry string }

// ouiMaps holds the table by prefix length: 24, 28 and 36 bits.
type ouiMaps struct {
	by [3]map[uint64]ouiEntry
}

var ouiBits = [3]uint{36, 28, 24} // longest first: an MA-S or MA-M block lies inside an MA-L one

var loadOUI = sync.OnceValues(func() (*ouiMaps, error) { return parseOUI(ouiTable) })

// parseOUI reads the gzip-compressed table (format in ouigen/main.go).
func parseOUI(gz []byte) (*ouiMaps, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("oui table: %w", err)
	}
	m := &ouiMaps{}
	for i := range m.by {
		m.by[i] = map[uint64]ouiEntry{}
	}
	intern := map[string]string{}
	sc := bufio.NewScanner(zr)
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		a, rest, ok1 := strings.Cut(l, "\t")
		reg, org, ok2 := strings.Cut(rest, "\t")
		v, err := strconv.ParseUint(a, 16, 64)
		if !ok1 || !ok2 || err != nil {
			return nil, fmt.Errorf("oui table: line %d: %q", line, l)
		}
		i := 0
		switch len(a) {
		case 9:
			i = 0
		case 7:
			i = 1
		case 6:
			i = 2
		default:
			return nil, fmt.Errorf("oui table: line %d: prefix %q", line, a)
		}
		if s, ok := intern[org]; ok {
			org = s
		} else {
			intern[org] = org
		}
		m.by[i][v] = ouiEntry{org: org, registry: reg}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("oui table: %w", err)
	}
	return m, nil
}

// macBits packs a 6-byte address into the low 48 bits of an integer.
func macBits(mac net.HardwareAddr) (uint64, bool) {
	if len(mac) != 6 {
		return 0, false
	}
	var v uint64
	for _, b := range mac {
		v = v<<8 | uint64(b)
	}
	return v, true
}

// LookupVendor returns the registered maker of an interface from its 6-byte address: the
// longest registered prefix (MA-S/IAB, then MA-M, then MA-L). A locally administered address is
// flagged and not looked up.
func LookupVendor(mac net.HardwareAddr) Vendor {
	v, ok := macBits(mac)
	if !ok {
		return Vendor{}
	}
	return lookupBits(v)
}

func lookupBits(v uint64) Vendor {
	if v>>40&0x02 != 0 {
		return Vendor{Local: true}
	}
	m, err := loadOUI()
	if err != nil {
		return Vendor{} // the embedded table is tested; a broken build names no vendor
	}
	for i, bits := range ouiBits {
		p := v >> (48 - bits)
		if e, ok := m.by[i][p]; ok {
			return Vendor{Org: e.org, Registry: e.registry, Assignment: fmt.Sprintf("%0*X", bits/4, p)}
		}
	}
	return Vendor{}
}

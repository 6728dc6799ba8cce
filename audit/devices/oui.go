package devices

import (
	"bytes"
	"compress/gzip"
	_ "embed" // the vendor table
	"fmt"
	"net"
	"sort"
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

// ouiTableText is the decompressed table and the offsets of its assignment lines, in the
// table's order (sorted by assignment: a shorter prefix sorts before the longer ones it
// starts). A run looks up a few dozen devices, so the table is searched where it lies rather
// than loaded into maps (which cost 50 ms and 47,000 allocations at every start).
type ouiTableText struct {
	text  []byte
	lines []uint32
}

// ouiBits are the prefix lengths, longest first: an MA-S or MA-M block lies inside an MA-L one.
var ouiBits = [3]uint{36, 28, 24}

var loadOUI = sync.OnceValues(func() (*ouiTableText, error) { return parseOUI(ouiTable) })

// parseOUI decompresses the table (format in ouigen/main.go) and indexes its lines.
func parseOUI(gz []byte) (*ouiTableText, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("oui table: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(2 << 20)
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("oui table: %w", err)
	}
	t := &ouiTableText{text: buf.Bytes(), lines: make([]uint32, 0, 48000)}
	for off := 0; off < len(t.text); {
		end := bytes.IndexByte(t.text[off:], '\n')
		if end < 0 {
			end = len(t.text) - off
		}
		if t.text[off] != '#' {
			line := t.text[off : off+end]
			if bytes.Count(line, []byte{'\t'}) != 2 {
				return nil, fmt.Errorf("oui table: line at offset %d: %q", off, line)
			}
			t.lines = append(t.lines, uint32(off))
		}
		off += end + 1
	}
	return t, nil
}

// field returns the i-th tab-separated field of line n.
func (t *ouiTableText) field(n, i int) string { return string(t.fieldBytes(n, i)) }

func (t *ouiTableText) fieldBytes(n, i int) []byte {
	line := t.text[t.lines[n]:]
	if e := bytes.IndexByte(line, '\n'); e >= 0 {
		line = line[:e]
	}
	for ; i > 0; i-- {
		line = line[bytes.IndexByte(line, '\t')+1:]
	}
	if e := bytes.IndexByte(line, '\t'); e >= 0 {
		line = line[:e]
	}
	return line
}

// find returns the line of an assignment ("60601F"), or -1.
func (t *ouiTableText) find(a string) int {
	n := sort.Search(len(t.lines), func(i int) bool { return string(t.fieldBytes(i, 0)) >= a })
	if n < len(t.lines) && string(t.fieldBytes(n, 0)) == a {
		return n
	}
	return -1
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
	t, err := loadOUI()
	if err != nil {
		return Vendor{} // the embedded table is tested; a broken build names no vendor
	}
	for _, bits := range ouiBits {
		a := fmt.Sprintf("%0*X", bits/4, v>>(48-bits))
		if n := t.find(a); n >= 0 {
			return Vendor{Org: t.field(n, 2), Registry: t.field(n, 1), Assignment: a}
		}
	}
	return Vendor{}
}

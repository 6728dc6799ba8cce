// Command geogen converts the pinned ip-location-db CSV files into the fixed-width tables the
// destinations package embeds. It runs by hand when the pinned data is updated:
//
//	npm pack @ip-location-db/asn@2.3.2026061719 @ip-location-db/dbip-country@2.3.2026060120
//	mkdir asn cc && tar xzf ip-location-db-asn-*.tgz -C asn && tar xzf ip-location-db-dbip-country-*.tgz -C cc
//	go run ./audit/destinations/geogen -asn asn/package -country cc/package -out audit/destinations/geodata
//
// Every table lists ranges in address order by their first address; a range ends where the next
// begins, and value 0 ("" for countries) marks a gap without data. Arrays are big-endian and
// fixed-width so the binary searches them where they lie, and each is cut into files of at most
// 1.5 MB (name-1.bin, name-2.bin, …):
//   - asn4-start (uint32), asn4-val (uint32 AS number); asn6-hi (the high 64 bits of the IPv6
//     start), asn6-val;
//   - cc4-start, cc4-val (2 ASCII bytes, ISO 3166-1 alpha-2); cc6-hi, cc6-val;
//
// IPv6 tables keep only the /64 prefix of each start: in the pinned data fewer than 200 of
// 500,000 IPv6 boundaries fall inside a /64, and a /64 is one subnet, so lookups are exact to
// the subnet and the low halves (4 MB) are not worth committing.
//   - asnorg-index: (AS number uint32, end offset uint32) in AS order, over the concatenated
//     asnorg-names files; no name is cut between files.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// chunkSize keeps every committed file well under 2 MB.
const chunkSize = 1500 << 10

type rng struct {
	hi, lo   uint64 // first address
	ehi, elo uint64 // last address
	val      string
}

func main() {
	asnDir := flag.String("asn", "asn/package", "unpacked @ip-location-db/asn")
	ccDir := flag.String("country", "cc/package", "unpacked @ip-location-db/dbip-country")
	out := flag.String("out", "geodata", "output folder")
	flag.Parse()
	orgs := map[uint32]string{}
	for _, t := range []struct {
		file, name string
		v6, asn    bool
	}{
		{filepath.Join(*asnDir, "asn-ipv4.csv"), "asn4", false, true},
		{filepath.Join(*asnDir, "asn-ipv6.csv"), "asn6", true, true},
		{filepath.Join(*ccDir, "dbip-country-ipv4.csv"), "cc4", false, false},
		{filepath.Join(*ccDir, "dbip-country-ipv6.csv"), "cc6", true, false},
	} {
		rs, err := read(t.file, t.asn, orgs)
		if err != nil {
			fail(err)
		}
		n, err := writeRanges(*out, t.name, rs, t.v6, t.asn)
		if err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d ranges, %d table entries\n", t.name, len(rs), n)
	}
	if err := writeOrgs(*out, orgs); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "geogen:", err)
	os.Exit(1)
}

func split(a netip.Addr) (uint64, uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func read(path string, asn bool, orgs map[uint32]string) ([]rng, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	var out []rng
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("%s:%d: %d fields", path, line, len(rec))
		}
		s, err1 := netip.ParseAddr(rec[0])
		e, err2 := netip.ParseAddr(rec[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: bad range", path, line)
		}
		x := rng{val: rec[2]}
		x.hi, x.lo = split(s.Unmap())
		x.ehi, x.elo = split(e.Unmap())
		if asn {
			n, err := strconv.ParseUint(rec[2], 10, 32)
			if err != nil || len(rec) < 4 {
				return nil, fmt.Errorf("%s:%d: bad AS number", path, line)
			}
			if _, ok := orgs[uint32(n)]; !ok {
				orgs[uint32(n)] = rec[3]
			}
		} else if len(rec[2]) != 2 {
			return nil, fmt.Errorf("%s:%d: country %q", path, line, rec[2])
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b rng) int {
		if a.hi != b.hi {
			return cmpU(a.hi, b.hi)
		}
		return cmpU(a.lo, b.lo)
	})
	return out, nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type point struct {
	hi, lo uint64
	val    string // "" = gap
}

// points turns ranges into start points with gap markers, merging neighbours of equal value.
func points(rs []rng) []point {
	var pts []point
	add := func(hi, lo uint64, v string) {
		if n := len(pts); n > 0 && pts[n-1].val == v {
			return
		}
		pts = append(pts, point{hi, lo, v})
	}
	var nhi, nlo uint64
	started, wrapped := false, false
	for _, r := range rs {
		if started && (r.hi < nhi || (r.hi == nhi && r.lo < nlo)) {
			continue // overlaps the previous range: keep the first
		}
		if (!started && (r.hi != 0 || r.lo != 0)) || (started && (r.hi != nhi || r.lo != nlo)) {
			if started {
				add(nhi, nlo, "")
			} else {
				add(0, 0, "")
			}
		}
		add(r.hi, r.lo, r.val)
		started = true
		nhi, nlo = r.ehi, r.elo+1
		if nlo == 0 {
			nhi++
			wrapped = nhi == 0
		}
	}
	if !wrapped {
		add(nhi, nlo, "")
	}
	return pts
}

func writeRanges(dir, name string, rs []rng, v6, asn bool) (int, error) {
	pts := points(rs)
	var starts, his, vals []byte
	for i, p := range pts {
		if v6 {
			if i+1 < len(pts) && pts[i+1].hi == p.hi {
				continue // a boundary inside a /64: the later point of the same /64 stands
			}
			his = binary.BigEndian.AppendUint64(his, p.hi)
		} else {
			if p.lo>>32 != 0xffff && len(starts) > 0 {
				break // past 255.255.255.255
			}
			starts = binary.BigEndian.AppendUint32(starts, uint32(p.lo))
		}
		switch {
		case asn:
			n, _ := strconv.ParseUint(p.val, 10, 32) // "" → 0, the gap
			vals = binary.BigEndian.AppendUint32(vals, uint32(n))
		case p.val == "":
			vals = append(vals, 0, 0)
		default:
			vals = append(vals, p.val[0], p.val[1])
		}
	}
	files := map[string][]byte{name + "-val": vals}
	if v6 {
		files[name+"-hi"] = his
	} else {
		files[name+"-start"] = starts
	}
	for base, b := range files {
		if err := writeChunks(dir, base, b); err != nil {
			return 0, err
		}
	}
	return len(pts), nil
}

func writeChunks(dir, base string, b []byte) error {
	for i := 1; len(b) > 0 || i == 1; i++ {
		n := min(len(b), chunkSize)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.bin", base, i)), b[:n], 0o644); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func writeOrgs(dir string, orgs map[uint32]string) error {
	asns := make([]uint32, 0, len(orgs))
	for a := range orgs {
		asns = append(asns, a)
	}
	slices.Sort(asns)
	var index, part []byte
	var parts [][]byte
	total := 0
	for _, a := range asns {
		if len(part)+len(orgs[a]) > chunkSize {
			parts, part = append(parts, part), nil
		}
		part = append(part, orgs[a]...)
		total += len(orgs[a])
		index = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(index, a), uint32(total))
	}
	parts = append(parts, part)
	if err := writeChunks(dir, "asnorg-index", index); err != nil {
		return err
	}
	for i, p := range parts {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("asnorg-names-%d.bin", i+1)), p, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "asnorg: %d AS numbers in %d name files\n", len(asns), len(parts))
	return nil
}

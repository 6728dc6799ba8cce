package audit

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/geo"
	"droneaudit/netflow"
)

// referenceNDJSON is the NDJSON writer as it was before it appended bytes itself: encoding/json
// on NewFixRecord, HTML escaping off. It is the definition the fast writer must match.
func referenceNDJSON(w io.Writer, f geo.Fix) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(NewFixRecord(f))
}

// fixGen draws fixes that reach every branch of the NDJSON writer and every corner of JSON number
// and string encoding.
type fixGen struct{ r *rand.Rand }

// float returns a finite float64 of any magnitude: decoder-like degrees, integers, the cutoffs of
// encoding/json's 'f'/'e' choice and their neighbours, subnormals, random bit patterns.
func (g fixGen) float() float64 {
	r := g.r
	var v float64
	switch r.IntN(14) {
	case 0:
		v = r.Float64()*360 - 180
	case 1:
		v = float64(int32(r.Uint32())) * 1e-7 // degE7 as decoders scale it
	case 2:
		v = float64(int32(r.Uint32())) / 1e7
	case 3:
		v = float64(r.Int64N(1 << 53)) // integral
	case 4:
		v = float64(r.IntN(2000)) / 1000
	case 5: // tiny, down to subnormals
		v = math.Ldexp(r.Float64(), -r.IntN(1075))
	case 6: // huge
		v = math.Ldexp(0.5+r.Float64()/2, r.IntN(1024))
	case 7:
		edges := []float64{0, 1e-6, 1e-7, 1e-5, 1e20, 1e21, 1e22, 1e-300, 1e300, math.MaxFloat64, 1e7, 9999999.9999999, 1.5e-6, 1e-6 + 1e-7,
			math.SmallestNonzeroFloat64, 0.1, 0.3, 1, 1e15, 1e16, 123456789012345678, 5e-324, 2.5e-7}
		v = edges[r.IntN(len(edges))]
		switch r.IntN(3) {
		case 1:
			v = math.Nextafter(v, 0)
		case 2:
			if v != math.MaxFloat64 {
				v = math.Nextafter(v, math.Inf(1))
			}
		}
	case 8:
		v = math.Pow10(r.IntN(40)-20) * float64(r.IntN(10)+1)
	case 9: // seven decimals at every magnitude, below and above the fast path's 1e7 limit
		v = float64(r.Int64N(int64(math.Pow10(6+r.IntN(12))))) / 1e7
	case 10:
		v = float64(r.Int64N(int64(math.Pow10(1+r.IntN(15))))) / 1e3
	default:
		for {
			v = math.Float64frombits(r.Uint64())
			if finite(v) {
				break
			}
		}
	}
	if r.IntN(2) == 0 {
		v = -v
	}
	return v
}

// bounded is a float that survives round(v, 3) as a finite number.
func (g fixGen) bounded() float64 {
	for {
		if v := g.float(); math.Abs(v) < 1e300 {
			return v
		}
	}
}

var nastyStrings = []string{
	"", "dataflash", "int32 degE7", `say "hi"`, `back\slash`, `\"`, "tab\there", "nl\nr\rff\fbs\b",
	"\x00\x01\x1f\x7f", "<script>&amp;</script>", "café", "日本語", "🛩 drone", "line\u2028para\u2029end",
	"\xff", "ab\xc3", "\xe2\x80", "\xe2\x80\xa8", "\xed\xa0\x80", "\xc0\xaf", "ok\xf4\x90\x80\x80",
	"message 13269 @ 0x6995d", "\ufffd", "\u00e9\u0301",
}

// str returns a string from the list of hard cases, or random bytes (often invalid UTF-8), or a
// random mix of runes.
func (g fixGen) str() string {
	r := g.r
	switch r.IntN(4) {
	case 0, 1:
		return nastyStrings[r.IntN(len(nastyStrings))]
	case 2:
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return string(b)
	}
	var sb strings.Builder
	for range r.IntN(16) {
		switch r.IntN(4) {
		case 0:
			sb.WriteByte(byte(r.IntN(0x80)))
		case 1:
			sb.WriteRune(rune(r.IntN(0x800)))
		case 2:
			sb.WriteRune(rune(0x2020 + r.IntN(16)))
		default:
			sb.WriteRune(rune(r.IntN(utf8MaxRune)))
		}
	}
	return sb.String()
}

const utf8MaxRune = 0x10ffff

func (g fixGen) time() time.Time {
	r := g.r
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("CEST", 2*3600), time.FixedZone("", -(9*3600 + 30*60)),
		time.FixedZone("odd", 5*3600+45*60+17)}
	loc := zones[r.IntN(len(zones))]
	switch r.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Now() // with a monotonic reading
	case 2: // far years, outside 0000-9999 too
		return time.Date(r.IntN(30000)-10000, time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(61), r.IntN(1e9), loc)
	}
	nanos := []int{0, r.IntN(1e9), r.IntN(1000) * 1e6, r.IntN(10) * 1e8, 1, 999999999, 100}
	return time.Unix(r.Int64N(4e9)-1e9, int64(nanos[r.IntN(len(nanos))])).In(loc)
}

func (g fixGen) addr() netip.Addr {
	r := g.r
	if r.IntN(2) == 0 {
		return netip.AddrFrom4([4]byte{byte(r.UintN(256)), byte(r.UintN(256)), byte(r.UintN(256)), byte(r.UintN(256))})
	}
	var a [16]byte
	for i := range a {
		if r.IntN(3) == 0 {
			a[i] = byte(r.UintN(256))
		}
	}
	if r.IntN(4) == 0 {
		return netip.AddrFrom4([4]byte{10, 0, 0, byte(r.UintN(256))}) // mapped forms too
	}
	return netip.AddrFrom16(a)
}

func (g fixGen) fix(inputs []string) geo.Fix {
	r := g.r
	roles := []geo.Role{geo.RoleAircraft, geo.RoleHome, geo.RoleTakeoff, geo.RolePilot, geo.RoleController, geo.RoleWaypoint, geo.RolePhoto, geo.RoleOther, geo.Role(g.str())}
	channels := []geo.Channel{geo.ChannelOnDevice, geo.ChannelNetwork, geo.ChannelBroadcast, geo.Channel(g.str())}
	f := geo.Fix{Lat: g.float(), Lon: g.float(), Time: g.time(), Role: roles[r.IntN(len(roles))], PrecisionM: g.bounded()}
	if r.IntN(2) == 0 {
		f.HasAlt, f.AltM, f.AltRef = true, g.bounded(), []string{"", "msl", "take-off", g.str()}[r.IntN(4)]
	} else if r.IntN(2) == 0 {
		f.AltM, f.AltRef = g.float(), g.str() // set but not present: must not be printed
	}
	in := r.IntN(len(inputs))
	offsets := []int64{-1, 0, r.Int64(), -r.Int64(), math.MaxInt64, math.MinInt64, int64(r.IntN(1 << 20))}
	f.Evidence = geo.Evidence{
		// The per-input cache must notice a new input, and must not be fooled by an equal input
		// held in a different string.
		Input:    strings.Clone(inputs[in]),
		SHA256:   fmt.Sprintf("%064x", in*7919),
		Locator:  g.str(),
		Offset:   offsets[r.IntN(len(offsets))],
		Decoder:  g.str(),
		Message:  g.str(),
		Encoding: g.str(),
		Channel:  channels[r.IntN(len(channels))],
		Note:     g.str(),
	}
	if r.IntN(8) == 0 {
		f.Evidence.SHA256 = g.str() // same input, other hash: a new input all the same
	}
	switch r.IntN(3) {
	case 0:
		protos := []netflow.Proto{netflow.TCP, netflow.UDP, netflow.Proto(r.UintN(256))}
		f.Evidence.Network = &geo.Network{FlowUID: []string{"", "Cdbhu82dgngmsc3j0p", g.str()}[r.IntN(3)],
			Proto: protos[r.IntN(len(protos))], Src: netip.AddrPortFrom(g.addr(), uint16(r.UintN(65536))),
			Dst: netip.AddrPortFrom(g.addr(), uint16(r.UintN(65536))), Direction: netflow.Direction(r.IntN(2)),
			Host: []string{"", "api.dji.com", g.str()}[r.IntN(3)]}
	case 1:
		ints := []int{0, 2437, -67, r.Int(), -r.Int()}
		f.Evidence.Broadcast = &geo.Broadcast{Transmitter: g.str(), Kind: g.str(), FreqMHz: ints[r.IntN(len(ints))], SignalDBm: ints[r.IntN(len(ints))]}
	}
	return f
}

// reuse gives f the fields of an earlier fix that the writer caches (role to SHA-256, the minute
// of the time), sometimes with one of them changed or held in a new string of the same text, so
// that the caches meet hits, near misses and evictions.
func (g fixGen) reuse(f *geo.Fix, p geo.Fix) {
	r := g.r
	f.Role, f.PrecisionM = p.Role, p.PrecisionM
	f.Evidence.Decoder, f.Evidence.Message, f.Evidence.Encoding = p.Evidence.Decoder, strings.Clone(p.Evidence.Message), p.Evidence.Encoding
	f.Evidence.Input, f.Evidence.SHA256 = p.Evidence.Input, p.Evidence.SHA256
	if !p.Time.IsZero() {
		f.Time = p.Time.Add(time.Duration(r.Int64N(int64(3*time.Minute))) - time.Minute)
	}
	switch r.IntN(10) {
	case 0:
		f.Role = geo.Role(g.str())
	case 1:
		f.PrecisionM = -f.PrecisionM
	case 2:
		f.Evidence.Decoder = g.str()
	case 3:
		f.Evidence.Message = ""
	case 4:
		f.Evidence.Encoding = g.str()
	case 5:
		f.Evidence.SHA256 = g.str()
	case 6:
		f.Evidence.Input = g.str()
	}
}

// TestNDJSONFixesMatchEncodingJSON: the appending writer prints every fix byte for byte as
// encoding/json prints NewFixRecord(f).
func TestNDJSONFixesMatchEncodingJSON(t *testing.T) {
	g := fixGen{rand.New(rand.NewPCG(1, 2))}
	inputs := []string{"../shared/corpus/dataflash/a.bin", "/tmp/x \"quoted\" <&>.bin", "C:\\logs\\flight.txt", "ünï\xffcode\u2028.log"}
	n := 200000
	if testing.Short() {
		n = 20000
	}
	var got, want bytes.Buffer
	fw, err := NewFixWriter("ndjson", &got)
	if err != nil {
		t.Fatal(err)
	}
	var recent, all []geo.Fix
	for i := range n {
		f := g.fix(inputs)
		if i%3 == 0 {
			// runs of fixes from one input, as a log gives them
			f.Evidence.Input, f.Evidence.SHA256 = inputs[0], "a4a3883fa13f28d55878c041cb4cc14deb3e5335aad6b9091f235c9b4e0d95f0"
		}
		if len(recent) > 0 && g.r.IntN(2) == 0 {
			g.reuse(&f, recent[g.r.IntN(len(recent))])
		}
		recent = append(recent, f)
		if len(recent) > 6 {
			recent = recent[1:]
		}
		all = append(all, f)
		if err := referenceNDJSON(&want, f); err != nil {
			t.Fatalf("fix %d: reference encoder: %v", i, err)
		}
		if err := fw.Write(&f); err != nil {
			t.Fatalf("fix %d: %v", i, err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got.Bytes(), want.Bytes()) {
		return
	}
	gl, wl := bytes.SplitAfter(got.Bytes(), []byte("\n")), bytes.SplitAfter(want.Bytes(), []byte("\n"))
	for i := range min(len(gl), len(wl), len(all)) {
		if !bytes.Equal(gl[i], wl[i]) {
			t.Fatalf("fix %d (%#v)\n got %q\nwant %q", i, all[i], gl[i], wl[i])
		}
	}
	t.Fatalf("got %d lines, want %d", len(gl), len(wl))
}

// Fixes the fast path leaves to the reference encoder: numbers JSON cannot hold fail as they
// always did, writing nothing; an IPv6 zone in the flow is written (or refused) as before.
func TestNDJSONFixesReferencePath(t *testing.T) {
	base := geo.Fix{Lat: 48.1, Lon: 11.5, Role: geo.RoleAircraft, Evidence: geo.Evidence{Input: "x", Channel: geo.ChannelNetwork}}
	zoned := func(zone string) geo.Fix {
		f := base
		f.Evidence.Network = &geo.Network{Src: netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone(zone), 1),
			Dst: netip.AddrPortFrom(netip.MustParseAddr("fe80::2"), 2)}
		return f
	}
	cases := map[string]geo.Fix{
		"zone":       zoned("eth0"),
		"quote zone": zoned(`a"b`),
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64} {
		f := base
		f.Lat = v
		cases[fmt.Sprint("lat ", v)] = f
		f = base
		f.PrecisionM = v
		cases[fmt.Sprint("precision ", v)] = f
		f = base
		f.HasAlt, f.AltM = true, v
		cases[fmt.Sprint("alt ", v)] = f
	}
	f := base
	f.AltM = math.NaN() // no altitude: never printed, no error
	cases["absent NaN alt"] = f
	for name, f := range cases {
		var got, want bytes.Buffer
		werr := referenceNDJSON(&want, f)
		fw, _ := NewFixWriter("ndjson", &got)
		gerr := fw.Write(&f)
		if gerr == nil {
			gerr = fw.Close()
		}
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || got.String() != want.String() {
			t.Errorf("%s: got %q, %v; want %q, %v", name, got.String(), gerr, want.String(), werr)
		}
	}
}

// TestMinuteCache: runs of times a few seconds to minutes apart, forwards and backwards, in
// any zone, across days, years and the limits of four-digit years.
func TestMinuteCache(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 3600), time.FixedZone("", -12345)}
	var c minuteCache
	starts := []time.Time{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 58, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(0, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)}
	for run := range 3000 {
		tm := time.Unix(r.Int64N(1e11)-5e10, r.Int64N(1e9))
		if run < len(starts) {
			tm = starts[run]
		}
		for range 100 {
			tm = tm.Add(time.Duration(r.Int64N(int64(90*time.Second))) - 30*time.Second).In(zones[r.IntN(len(zones))])
			if r.IntN(4) == 0 {
				tm = tm.Truncate(time.Duration([]int64{1, 1e3, 1e6, 1e8, 1e9}[r.IntN(5)]))
			}
			want := tm.UTC().Format(time.RFC3339Nano)
			if got := string(c.appendRFC3339Nano(nil, tm)); got != want {
				t.Fatalf("%v: got %s, want %s", tm, got, want)
			}
		}
	}
}

// TestDigits8: the two 4-digit halves of x are worked on in lanes of their own, so every value
// of each half beside a few of the other, and random x, cover it.
func TestDigits8(t *testing.T) {
	check := func(x uint32) {
		var got [8]byte
		binary.LittleEndian.PutUint64(got[:], digits8(x))
		if want := fmt.Sprintf("%08d", x); string(got[:]) != want {
			t.Fatalf("digits8(%d) = %q", x, got)
		}
	}
	for h := range uint32(10000) {
		for _, l := range []uint32{0, 1, 5000, 9999, h} {
			check(h*10000 + l)
			check(l*10000 + h)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 100000 {
		check(r.Uint32N(1e8))
	}
}

func TestAppendInt(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	vals := []int64{0, 1, 9, 10, 99999999, 1e8, 1e8 + 1, 1e15, 1e16 - 1, 1e16, -1, math.MaxInt64, math.MinInt64}
	for range 100000 {
		vals = append(vals, r.Int64N(int64(math.Pow10(1+r.IntN(18)))), -r.Int64N(1000))
	}
	for _, v := range vals {
		if got, want := string(appendInt(nil, v)), strconv.FormatInt(v, 10); got != want {
			t.Fatalf("appendInt(%d) = %s", v, got)
		}
	}
}

func TestAppendJSONFloat(t *testing.T) {
	g := fixGen{rand.New(rand.NewPCG(3, 4))}
	for i := range 500000 {
		v := g.float()
		if r, r3 := round(v, 3), round3(v); math.Float64bits(r) != math.Float64bits(r3) && !math.IsNaN(r) {
			t.Fatalf("round3(%v) = %v, round(v, 3) = %v", v, r3, r)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("%d: %v (%#x): got %s, want %s", i, v, math.Float64bits(v), got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	g := fixGen{rand.New(rand.NewPCG(5, 6))}
	check := func(s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := appendJSONString(nil, s); string(got)+"\n" != want.String() {
			t.Fatalf("%q: got %s, want %s", s, got, want.String())
		}
	}
	for c := range 256 { // every single byte, alone and at every place of the 8-byte words
		check(string([]byte{byte(c)}))
		for p := range 17 {
			check(strings.Repeat("a", p) + string([]byte{byte(c)}) + strings.Repeat("z", 17-p))
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		check(string(r))
	}
	for range 200000 {
		check(g.str())
	}
}

// benchFixes is a DataFlash-like stream: GPS fixes with altitude and POS fixes without, 10 Hz,
// one input, the evidence strings and the scaling (degE7 / 1e7) of the DataFlash decoder.
func benchFixes(n int) []geo.Fix {
	fixes := make([]geo.Fix, n)
	t0 := time.Date(2024, 5, 1, 17, 23, 10, 0, time.UTC)
	for i := range fixes {
		f := geo.Fix{Lat: float64(481234567+i*37) / 1e7, Lon: float64(115432109-i*53) / 1e7, Time: t0.Add(time.Duration(i) * 100 * time.Millisecond),
			Role: geo.RoleAircraft, PrecisionM: geo.PrecisionDegE7,
			Evidence: geo.Evidence{Input: "/data/logs/00000042.BIN", SHA256: "a4a3883fa13f28d55878c041cb4cc14deb3e5335aad6b9091f235c9b4e0d95f0",
				Locator: fmt.Sprintf("message %d @ %#x", i*7, i*301), Offset: int64(i * 301), Decoder: "dataflash", Message: "POS",
				Encoding: "int32 degE7", Channel: geo.ChannelOnDevice}}
		if i%2 == 0 {
			f.HasAlt, f.AltM, f.AltRef, f.Evidence.Message = true, 512.34+float64(i%1000)/100, "msl", "GPS"
		}
		fixes[i] = f
	}
	return fixes
}

// BenchmarkNDJSONFixes: one op is one fix written, through a 64 KiB bufio.Writer as the fixes
// command writes them. "reference" is the encoding/json writer this package used before.
func BenchmarkNDJSONFixes(b *testing.B) {
	fixes := benchFixes(4096)
	run := func(b *testing.B, write func(*geo.Fix) error) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := write(&fixes[i%len(fixes)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("reference", func(b *testing.B) {
		w := bufio.NewWriterSize(io.Discard, 1<<16)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		run(b, func(f *geo.Fix) error { return enc.Encode(NewFixRecord(*f)) })
	})
	b.Run("append", func(b *testing.B) {
		fw, _ := NewFixWriter("ndjson", bufio.NewWriterSize(io.Discard, 1<<16))
		run(b, fw.Write)
	})
}

// The number and time appenders store their digits in the spare capacity of the line (room):
// what they append does not depend on that capacity or on what it held, and the bytes before
// stay as they were.
func TestAppendersInPlace(t *testing.T) {
	g := fixGen{rand.New(rand.NewPCG(13, 14))}
	var c, fresh minuteCache
	tm := time.Date(2024, 2, 4, 0, 2, 11, 900050000, time.UTC)
	for i := range 100000 {
		v, n := g.float(), g.r.Int64N(1e12)
		tm = tm.Add(time.Duration(g.r.Int64N(int64(3 * time.Second))))
		prefix := []byte(`{"lat":`)
		// Spare capacity of 0 to 40 bytes, filled with bytes a line never holds.
		b := append(make([]byte, 0, len(prefix)+i%41), prefix...)
		for j := len(b); j < cap(b); j++ {
			b = append(b, 0xff)
		}
		b = b[:len(prefix)]
		// Each result shares b's array with the next: checked before the next one is made.
		check := func(name string, got, want []byte) {
			if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("%s, spare capacity %d: got %q, want %q after %q", name, cap(b)-len(b), got, want, prefix)
			}
		}
		check("float", appendJSONFloat(b, v), appendJSONFloat(nil, v))
		check("int", appendInt(b, n), strconv.AppendInt(nil, n, 10))
		check("time", c.appendRFC3339Nano(b, tm), fresh.appendRFC3339Nano(nil, tm))
	}
}

package destinations

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"droneaudit/engine"
	"droneaudit/internal/corpus"
	"droneaudit/internal/netfixture"
)

type labFile struct {
	path   string
	expect *netfixture.Expect
}

var (
	labOnce  sync.Once
	labFiles map[netfixture.Format]labFile
	labErr   error
	labDir   string
)

// lab generates (once per test binary) a small lab capture in pcap and pcapng.
func lab(t testing.TB) map[netfixture.Format]labFile {
	t.Helper()
	labOnce.Do(func() {
		labDir, labErr = os.MkdirTemp("", "destinations-lab")
		if labErr != nil {
			return
		}
		labFiles = map[netfixture.Format]labFile{}
		var l *netfixture.Lab
		if l, labErr = netfixture.NewLab(context.Background()); labErr != nil {
			return
		}
		for f, name := range map[netfixture.Format]string{netfixture.Pcap: "lab.pcap", netfixture.Pcapng: "lab.pcapng"} {
			var buf bytes.Buffer
			w, err := netfixture.NewWriter(&buf, f, l.KeyLog)
			if err != nil {
				labErr = err
				return
			}
			e, err := l.Generate(w, netfixture.Mix{Packets: 4000, Seed: 7})
			if err == nil {
				err = w.Close()
			}
			if err != nil {
				labErr = err
				return
			}
			p := filepath.Join(labDir, name)
			if labErr = os.WriteFile(p, buf.Bytes(), 0o644); labErr != nil {
				return
			}
			labFiles[f] = labFile{p, e}
		}
	})
	if labErr != nil {
		t.Fatal(labErr)
	}
	return labFiles
}

func TestMain(m *testing.M) {
	code := m.Run()
	if labDir != "" {
		os.RemoveAll(labDir)
	}
	os.Exit(code)
}

func rowMap(inv *Inventory) map[netfixture.Key]Row {
	out := map[netfixture.Key]Row{}
	for _, r := range inv.Rows {
		out[netfixture.Key{Addr: netip.AddrPortFrom(netip.MustParseAddr(r.IP), r.Port), Proto: r.Protocol}] = r
	}
	return out
}

func hasName(r Row, name, source string) bool {
	return slices.Contains(r.Names, Name{Name: name, Source: source})
}

func TestBuildMatchesGeneratedTraffic(t *testing.T) {
	for format, lf := range lab(t) {
		inv, err := Build(context.Background(), []string{lf.path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Notes) != 0 {
			t.Errorf("format %d: notes %v", format, inv.Notes)
		}
		if inv.Packets != int64(lf.expect.Packets) {
			t.Errorf("packets %d, want %d", inv.Packets, lf.expect.Packets)
		}
		rows := rowMap(inv)
		if len(rows) != len(lf.expect.Dest) {
			t.Errorf("format %d: %d rows, want %d", format, len(rows), len(lf.expect.Dest))
		}
		for k, want := range lf.expect.Dest {
			r, ok := rows[k]
			if !ok {
				t.Errorf("no row for %v", k)
				continue
			}
			if r.BytesOut != want.Out || r.BytesIn != want.In || r.Flows != want.Flows {
				t.Errorf("%v: out %d in %d flows %d, want %d %d %d", k, r.BytesOut, r.BytesIn, r.Flows, want.Out, want.In, want.Flows)
			}
		}
		for _, h := range netfixture.LabHosts {
			r, ok := rows[netfixture.Key{Addr: netip.AddrPortFrom(h.V4, 443), Proto: "tcp"}]
			if !ok {
				continue
			}
			if !hasName(r, h.Name, SourceTLSSNI) || !hasName(r, h.Name, SourceDNS) {
				t.Errorf("%s: names %v", h.Name, r.Names)
			}
			if r.AddressClass != ClassPublic || r.Scope != ScopeInternet || r.App != "tls" || len(r.JA4) == 0 || !strings.HasPrefix(r.JA4[0], "t13d") {
				t.Errorf("%s: scope %s app %s ja4 %v", h.Name, r.Scope, r.App, r.JA4)
			}
			if len(r.Devices) != 1 || r.Devices[0] != (Device{MAC: netfixture.MAC(netfixture.Phone).String(), IP: netfixture.Phone.String(), HostName: "DJI-RC-Pro"}) {
				t.Errorf("%s: devices %+v", h.Name, r.Devices)
			}
		}
		check := func(ip string, port uint16, proto, owner, name, source string) {
			t.Helper()
			r, ok := rows[netfixture.Key{Addr: netip.AddrPortFrom(netip.MustParseAddr(ip), port), Proto: proto}]
			if !ok {
				t.Errorf("no row %s:%d/%s", ip, port, proto)
				return
			}
			if r.Owner != owner || (name != "" && !hasName(r, name, source)) {
				t.Errorf("%s:%d: owner %s names %v, want %s and %s from %s", ip, port, r.Owner, r.Names, owner, name, source)
			}
		}
		check("47.91.161.230", 443, "tcp", OwnerDJI, "flysafe-api.dji.com", SourceTLSSNI)
		check("47.91.161.230", 443, "udp", OwnerDJI, "flysafe-api.dji.com", SourceQUICSNI)
		check("8.8.4.4", 443, "tcp", OwnerMaps, "events.mapbox.com", SourceTLSSNI)
		check("119.28.1.1", 443, "tcp", OwnerAnalytics, "bugly.qq.com", SourceTLSSNI)
		check("120.76.1.1", 80, "tcp", OwnerDJI, "active.dji.com", SourceHTTPHost)
		check("192.168.50.10", 1883, "tcp", OwnerUnknown, "", "")
		broker := rows[netfixture.Key{Addr: netip.MustParseAddrPort("192.168.50.10:1883"), Proto: "tcp"}]
		if broker.AddressClass != ClassPrivate || broker.Scope != ScopeLabNetwork || broker.Country != "" || broker.App != "mqtt" {
			t.Errorf("broker row %+v", broker)
		}
		if r := rows[netfixture.Key{Addr: netip.MustParseAddrPort("8.8.4.4:443"), Proto: "tcp"}]; r.Country != "US" {
			t.Errorf("8.8.4.4 country %q", r.Country)
		}
		res := rows[netfixture.Key{Addr: netip.MustParseAddrPort("192.168.50.1:53"), Proto: "udp"}]
		if !slices.Contains(res.Flags, FlagDNS) || res.App != "dns" {
			t.Errorf("resolver row %+v", res)
		}
		v := inv.Violations(Policy{DenyOwners: []string{"analytics-sdk"}, DenyCountries: []string{"us"}, DenyHosts: []string{"*.djicdn.com"}})
		rules := map[string]int{}
		for _, x := range v {
			rules[x.Rule]++
			if x.Rule == "owner" && x.Row.Owner != OwnerAnalytics {
				t.Errorf("owner violation on %+v", x.Row)
			}
			if x.Rule == "host" && !slices.ContainsFunc(x.Row.Names, func(n Name) bool { return strings.HasSuffix(n.Name, "djicdn.com") }) {
				t.Errorf("host violation on %+v", x.Row)
			}
		}
		if rules["owner"] == 0 || rules["country"] == 0 || rules["host"] == 0 {
			t.Errorf("violations by rule %v", rules)
		}
	}
}

func TestRowsSortedAndJSONSchema(t *testing.T) {
	lf := lab(t)[netfixture.Pcapng]
	inv, err := Build(context.Background(), []string{lf.path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(inv.Rows, compareRows) {
		t.Fatal("rows not sorted")
	}
	var buf bytes.Buffer
	if err := inv.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Destinations []map[string]json.RawMessage `json:"destinations"`
		GeoIP        map[string]json.RawMessage   `json:"geoip"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ip", "port", "protocol", "names", "owner", "country", "asn", "as_org", "scope", "bytes_out", "bytes_in", "flows", "first", "last", "devices"} {
		if _, ok := doc.Destinations[0][f]; !ok {
			t.Errorf("row lacks %q", f)
		}
	}
	if !strings.Contains(string(doc.GeoIP["attribution"]), "DB-IP") {
		t.Errorf("attribution %s", doc.GeoIP["attribution"])
	}
	// Same input, same bytes.
	inv2, _ := Build(context.Background(), []string{lf.path}, Options{})
	var buf2 bytes.Buffer
	inv2.WriteJSON(&buf2)
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("two runs differ")
	}
	var csvb, txt bytes.Buffer
	if err := inv.WriteCSV(&csvb); err != nil || strings.Count(csvb.String(), "\n") < len(inv.Rows)+1 {
		t.Fatalf("csv: %v", err)
	}
	if err := inv.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "flysafe-api.dji.com") {
		t.Fatalf("text: %v", err)
	}
}

func TestConfigOwnersAndGeoOverride(t *testing.T) {
	lf := lab(t)[netfixture.Pcap]
	dir := t.TempDir()
	cc := filepath.Join(dir, "country.csv")
	ac := filepath.Join(dir, "asn.csv")
	os.WriteFile(cc, []byte("8.8.4.0,8.8.4.255,ZZ\n47.0.0.0,47.255.255.255,CN\n"), 0o644)
	os.WriteFile(ac, []byte("8.8.4.0,8.8.4.255,15169,Google LLC\n"), 0o644)
	ipdb, err := NewGeoIP(GeoConfig{CountryDB: cc, ASNDB: ac})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Build(context.Background(), []string{lf.path}, Options{GeoIP: ipdb, Owners: []OwnerRule{{Pattern: "*.mapbox.com", Owner: "cloud"}}})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowMap(inv)
	r := rows[netfixture.Key{Addr: netip.MustParseAddrPort("8.8.4.4:443"), Proto: "tcp"}]
	if r.Owner != OwnerCloud || r.Country != "ZZ" || r.ASN != 15169 || r.ASOrg != "Google LLC" {
		t.Fatalf("%+v", r)
	}
	if r := rows[netfixture.Key{Addr: netip.MustParseAddrPort("47.91.161.230:443"), Proto: "tcp"}]; r.Country != "CN" || r.ASN != 0 {
		t.Fatalf("%+v", r)
	}
	if _, err := NewGeoIP(GeoConfig{CountryDB: filepath.Join(dir, "missing.csv")}); err == nil {
		t.Fatal("missing database accepted")
	}
}

// Every address has a class and a scope: loopback stays on the device, private and link-local
// addresses are the lab network, public ones the internet, and 255.255.255.255 is broadcast (it
// was labelled multicast).
func TestScope(t *testing.T) {
	for a, want := range map[string][2]string{
		"192.168.50.1":      {ClassPrivate, ScopeLabNetwork},
		"100.64.1.1":        {ClassCGNAT, ScopeInternet},
		"127.0.0.1":         {ClassLoopback, ScopeOnDevice},
		"::1":               {ClassLoopback, ScopeOnDevice},
		"169.254.1.1":       {ClassLinkLocal, ScopeLabNetwork},
		"224.0.0.251":       {ClassMulticast, ScopeLabNetwork},
		"255.255.255.255":   {ClassBroadcast, ScopeBroadcast},
		"fe80::1":           {ClassLinkLocal, ScopeLabNetwork},
		"fd00::1":           {ClassPrivate, ScopeLabNetwork},
		"8.8.8.8":           {ClassPublic, ScopeInternet},
		"64:ff9b::808:808":  {ClassPublic, ScopeInternet},
		"64:ff9b::c0a8:101": {ClassPrivate, ScopeLabNetwork},
		"198.18.0.1":        {ClassReserved, ScopeInternet},
		"2001:db8::1":       {ClassDocumenting, ScopeInternet},
		"::ffff:10.0.0.1":   {ClassPrivate, ScopeLabNetwork},
	} {
		ip := netip.MustParseAddr(a)
		if c, s := Class(ip), Scope(ip); c != want[0] || s != want[1] {
			t.Errorf("%s: class %s scope %s, want %s %s", a, c, s, want[0], want[1])
		}
	}
}

// TestCorpusCaptures runs the inventory on the real MAVLink captures of the shared corpus,
// whose ground truth names their flows: TCP 62025↔5760 on loopback, UDP 52752→14550, TCP
// 54026→5760.
func TestCorpusCaptures(t *testing.T) {
	cases := []struct {
		file  string
		port  uint16
		proto string
	}{
		{"mavlink/command_long_over_tcp.pcapng", 5760, "tcp"},
		{"mavlink/gps_raw_int.pcapng", 14550, "udp"},
		{"mavlink/mission_item_int.pcapng", 5760, "tcp"},
	}
	for _, c := range cases {
		p := corpus.Path(t, c.file)
		inv, err := Build(context.Background(), []string{p}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Rows) != 1 {
			t.Fatalf("%s: rows %+v", c.file, inv.Rows)
		}
		r := inv.Rows[0]
		if r.Port != c.port || r.Protocol != c.proto || r.Scope != ScopeOnDevice || r.AddressClass != ClassLoopback || r.Country != "" || r.BytesOut+r.BytesIn == 0 || r.Flows != 1 ||
			r.App != "" || len(r.Names) != 0 || r.Owner != OwnerUnknown {
			t.Errorf("%s: %+v", c.file, r)
		}
	}
}

func FuzzInventoryCapture(f *testing.F) {
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	l, err := netfixture.NewLab(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	l.Generate(w, netfixture.Mix{Packets: 60, Seed: 3})
	w.Close()
	f.Add(buf.Bytes())
	for _, s := range corpus.CaptureSeeds() {
		f.Add(s)
	}
	// The IP database is loaded once and the capture served from memory: each execution is the
	// inventory's own work on the input, not set-up.
	ipdb, err := NewGeoIP(GeoConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		inv, _ := BuildSources(context.Background(), []engine.Source{engine.BytesSource("x.pcap", b)}, Options{GeoIP: ipdb})
		if inv != nil && inv.Packets < 0 {
			t.Fatalf("negative packet count")
		}
	})
}

// BenchmarkBuild measures the whole inventory over a generated 100,000-frame lab capture.
func BenchmarkBuild(b *testing.B) {
	l, err := netfixture.NewLab(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "bench.pcap")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w, _ := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if _, err := l.Generate(w, netfixture.Mix{Packets: 100000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	w.Close()
	f.Close()
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), []string{p}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBuiltinASN checks the embedded AS table on addresses whose AS capture-and-performance.md
// §6.1 lists from the same ip-location-db data (8.8.8.8 AS15169, 47.88.1.10 AS45102 Alibaba,
// 47.246.1.1 AS24429, 120.76.1.1 AS37963, 185.199.108.153 AS54113), and that private space
// and gaps give nothing.
func TestBuiltinASN(t *testing.T) {
	g, err := NewGeoIP(GeoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]uint32{"8.8.8.8": 15169, "47.88.1.10": 45102, "47.246.1.1": 24429, "120.76.1.1": 37963,
		"185.199.108.153": 54113, "2001:4860:4860::8888": 15169, "64:ff9b::808:808": 15169, "0.0.0.1": 0, "255.255.255.254": 0} {
		asn, org := g.ASN(netip.MustParseAddr(ip))
		if asn != want || (want != 0 && org == "") {
			t.Errorf("%s: AS%d %q, want AS%d", ip, asn, org, want)
		}
	}
	if asn, org := g.ASN(netip.MustParseAddr("8.8.8.8")); !strings.Contains(strings.ToLower(org), "google") {
		t.Errorf("AS%d org %q", asn, org)
	}
	if !slices.Contains(g.Info.Attribution, ASNAttribution) || g.Info.ASNDB != BuiltinASNVersion {
		t.Errorf("info %+v", g.Info)
	}
}

// TestBuiltinCountry checks the embedded DB-IP country table on the answers
// capture-and-performance.md §6.1 lists for dbip (8.8.8.8 US, 47.88.1.10 US, 47.246.1.1 SG,
// 120.76.1.1 CN, 2001:4860:4860::8888 CA, 185.199.108.153 US), and the table edges.
func TestBuiltinCountry(t *testing.T) {
	g, err := NewGeoIP(GeoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{"8.8.8.8": "US", "47.88.1.10": "US", "47.246.1.1": "SG", "120.76.1.1": "CN",
		"2001:4860:4860::8888": "CA", "185.199.108.153": "US", "64:ff9b::784c:101": "CN", "255.255.255.255": "", "ffff::1": ""} {
		if got := g.Country(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s: %q, want %q", ip, got, want)
		}
	}
	if !strings.Contains(strings.Join(g.Info.Attribution, " "), "DB-IP") || g.Info.CountryDB != BuiltinCountryVersion {
		t.Errorf("info %+v", g.Info)
	}
}

package lab

import (
	"bufio"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func testPlan(t *testing.T, wireless bool) Plan {
	p := Plan{AP: "wlan9", Dir: t.TempDir(), Subnet: netip.MustParsePrefix("192.168.50.0/24"), Wireless: wireless,
		SSID: "droneaudit-lab", Passphrase: "a-long-lab-passphrase", Country: "BE", Channel: 6}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanAddresses(t *testing.T) {
	for _, c := range []struct{ subnet, lab, lo, hi, mask string }{
		{"192.168.50.0/24", "192.168.50.1", "192.168.50.10", "192.168.50.250", "255.255.255.0"},
		{"10.9.0.0/16", "10.9.0.1", "10.9.0.10", "10.9.0.250", "255.255.0.0"},
		{"172.20.1.16/28", "172.20.1.17", "172.20.1.18", "172.20.1.30", "255.255.255.240"},
	} {
		p := Plan{Subnet: netip.MustParsePrefix(c.subnet)}
		lo, hi := p.DHCPRange()
		if p.LabIP().String() != c.lab || lo.String() != c.lo || hi.String() != c.hi || p.Netmask() != c.mask {
			t.Errorf("%s: lab %s range %s-%s mask %s", c.subnet, p.LabIP(), lo, hi, p.Netmask())
		}
	}
}

func TestPlanCheckRefuses(t *testing.T) {
	ok := Plan{AP: "veth0", Dir: "x", Subnet: netip.MustParsePrefix("192.168.50.0/24")}
	for name, mod := range map[string]func(*Plan){
		"no ap":            func(p *Plan) { p.AP = "" },
		"odd name":         func(p *Plan) { p.AP = "wlan0; rm -rf /" },
		"same iface":       func(p *Plan) { p.Uplink = "veth0" },
		"ipv6 subnet":      func(p *Plan) { p.Subnet = netip.MustParsePrefix("fd00::/64") },
		"host bits":        func(p *Plan) { p.Subnet = netip.MustParsePrefix("192.168.50.7/24") },
		"too small":        func(p *Plan) { p.Subnet = netip.MustParsePrefix("192.168.50.0/30") },
		"intercept online": func(p *Plan) { p.Uplink, p.TLSIntercept = "eth0", true },
		"short passphrase": func(p *Plan) { p.Wireless, p.SSID, p.Country, p.Passphrase = true, "lab", "DE", "short" },
		"no country":       func(p *Plan) { p.Wireless, p.SSID, p.Country, p.Passphrase = true, "lab", "", "long-enough" },
		"no channel":       func(p *Plan) { p.Monitor, p.Channel = "wlan1", 0 },
		"newline in config": func(p *Plan) {
			p.Wireless, p.SSID, p.Country, p.Passphrase = true, "lab\nchannel=13", "DE", "long-enough"
		},
	} {
		p := ok
		mod(&p)
		if err := p.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := ok.Check(); err != nil {
		t.Errorf("good plan refused: %v", err)
	}
}

func TestWriteConfigsMode(t *testing.T) {
	p := testPlan(t, true)
	if err := p.WriteConfigs(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{HostapdConf, DnsmasqConf, NftRuleset} {
		fi, err := os.Stat(p.Path(n))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", n, fi.Mode(), err)
		}
	}
	if err := p.WriteConfigs(); err == nil {
		t.Error("WriteConfigs replaced the files of an earlier session")
	}
}

// TestHostapdConfigDocumented checks every option the lab writes against hostapd's annotated
// example configuration (the documentation of its options, shipped by the Debian package).
func TestHostapdConfigDocumented(t *testing.T) {
	doc, err := os.ReadFile("/usr/share/doc/hostapd/examples/hostapd.conf")
	if err != nil {
		t.Skip("hostapd's documented example configuration is not installed (Debian package hostapd)")
	}
	sc := bufio.NewScanner(strings.NewReader(testPlan(t, true).Hostapd()))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "=")
		if !regexp.MustCompile(`(?m)^(# ?)?` + regexp.QuoteMeta(key) + `=`).Match(doc) {
			t.Errorf("option %q is not documented in hostapd.conf", key)
		}
	}
}

// TestHostapdParsesConfig runs hostapd -dd on the generated file. Without a radio hostapd cannot
// start the AP, but it parses the whole file before it touches the driver: a parse error ends
// it with "N errors found in configuration file" before any driver line. A file with an unknown
// option shows that the check sees such errors.
func TestHostapdParsesConfig(t *testing.T) {
	path, err := FindProgram("hostapd")
	if err != nil {
		t.Skip(err)
	}
	p := testPlan(t, true)
	good := filepath.Join(p.Dir, "good.conf")
	bad := filepath.Join(p.Dir, "bad.conf")
	os.WriteFile(good, []byte(p.Hostapd()), 0o600)
	os.WriteFile(bad, []byte(p.Hostapd()+"no_such_option=1\nchannel=x\n"), 0o600)
	out, _ := exec.Command(path, "-dd", good).CombinedOutput()
	if strings.Contains(string(out), "errors found in configuration file") || strings.Contains(string(out), "Line ") {
		t.Errorf("hostapd rejects the generated configuration:\n%s", out)
	}
	if !strings.Contains(string(out), "Configuration file: "+good) || !regexp.MustCompile(`(?i)nl80211|driver|interface`).Match(out) {
		t.Errorf("hostapd did not get past parsing to the driver:\n%s", out)
	}
	out, _ = exec.Command(path, "-dd", bad).CombinedOutput()
	if !strings.Contains(string(out), "errors found in configuration file") || !strings.Contains(string(out), "no_such_option") {
		t.Errorf("hostapd did not report the bad option (the check would miss errors):\n%s", out)
	}
}

func TestDnsmasqParsesConfig(t *testing.T) {
	path, err := FindProgram("dnsmasq")
	if err != nil {
		t.Skip(err)
	}
	for _, p := range []Plan{testPlan(t, false), func() Plan { p := testPlan(t, false); p.Uplink = "eth9"; return p }()} {
		f := filepath.Join(t.TempDir(), "d.conf")
		os.WriteFile(f, []byte(p.Dnsmasq()), 0o600)
		if out, err := exec.Command(path, "--test", "--conf-file="+f).CombinedOutput(); err != nil || !strings.Contains(string(out), "syntax check OK") {
			t.Errorf("dnsmasq --test (offline %v): %v %s", p.Offline(), err, out)
		}
		if p.Offline() != strings.Contains(p.Dnsmasq(), "address=/#/192.168.50.1\n") {
			t.Errorf("offline %v, but the wildcard answer is %v", p.Offline(), !p.Offline())
		}
	}
}

// TestNftablesRulesetChecks runs nft -c (parse and check against the kernel, change nothing) on
// both rulesets, in a network namespace of its own.
func TestNftablesRulesetChecks(t *testing.T) {
	path, err := FindProgram("nft")
	if err != nil {
		t.Skip(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("nft -c needs root")
	}
	for _, p := range []Plan{testPlan(t, false), func() Plan { p := testPlan(t, false); p.Uplink = "eth9"; return p }()} {
		f := filepath.Join(t.TempDir(), "r.nft")
		os.WriteFile(f, []byte(p.Nftables()), 0o600)
		if out, err := exec.Command("unshare", "--net", path, "-c", "-f", f).CombinedOutput(); err != nil {
			t.Errorf("nft -c (offline %v): %v %s\n%s", p.Offline(), err, out, p.Nftables())
		}
		rules := p.Nftables()
		if p.Offline() && (!strings.Contains(rules, "policy drop;") || !strings.Contains(rules, "redirect to :64001") || strings.Contains(rules, "masquerade")) {
			t.Errorf("offline ruleset:\n%s", rules)
		}
		if !p.Offline() && (!strings.Contains(rules, `oifname "eth9" ip saddr 192.168.50.0/24 masquerade`) || strings.Contains(rules, "redirect")) {
			t.Errorf("uplink ruleset:\n%s", rules)
		}
	}
}

func TestFindProgramNamesPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	Packages["droneaudit-no-such-program"] = "no-such-package"
	defer delete(Packages, "droneaudit-no-such-program")
	_, err := FindProgram("droneaudit-no-such-program")
	if err == nil || !strings.Contains(err.Error(), "Debian package no-such-package") {
		t.Errorf("error does not name the package: %v", err)
	}
}

package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Config file names in the session folder.
const (
	HostapdConf = "hostapd.conf"
	DnsmasqConf = "dnsmasq.conf"
	NftRuleset  = "nftables.nft"
)

// ConfigFile is one generated file: its name in the session folder and its text.
type ConfigFile struct {
	Name string
	Text string
}

// Configs returns the files the plan needs, in the order they are written and shown.
func (p Plan) Configs() []ConfigFile {
	var out []ConfigFile
	if p.Wireless {
		out = append(out, ConfigFile{HostapdConf, p.Hostapd()})
	}
	return append(out, ConfigFile{DnsmasqConf, p.Dnsmasq()}, ConfigFile{NftRuleset, p.Nftables()})
}

// WriteConfigs writes every file into the session folder with mode 0600 (the hostapd file holds
// the passphrase), replacing none that exists: each session starts in a folder of its own.
func (p Plan) WriteConfigs() error {
	for _, c := range p.Configs() {
		f, err := os.OpenFile(p.Path(c.Name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already holds %s: each lab session needs a folder of its own", p.Dir, c.Name)
		}
		if err != nil {
			return err
		}
		_, err = f.WriteString(c.Text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Hostapd is the access point's configuration. Every option is documented in hostapd's
// annotated example (https://w1.fi/cgit/hostap/plain/hostapd/hostapd.conf): a WPA2-PSK network
// with CCMP only (no TKIP), 802.11n on the 2.4 GHz band (hw_mode=g) or 5 GHz (hw_mode=a for
// channels 36 and up), country_code with ieee80211d so the card uses the legal channels and
// power of the lab's country.
func (p Plan) Hostapd() string {
	mode := "g"
	if p.Channel >= 32 {
		mode = "a"
	}
	lines := []string{
		"# droneaudit lab access point; options: https://w1.fi/cgit/hostap/plain/hostapd/hostapd.conf",
		"interface=" + p.AP,
		"driver=nl80211",
		"ssid=" + p.SSID,
		"utf8_ssid=1",
		"country_code=" + p.Country,
		"ieee80211d=1",
		"hw_mode=" + mode,
		"channel=" + strconv.Itoa(p.Channel),
		"ieee80211n=1",
		"wmm_enabled=1",
		"auth_algs=1",
		"ignore_broadcast_ssid=0",
		"wpa=2",
		"wpa_key_mgmt=WPA-PSK",
		"rsn_pairwise=CCMP",
		"wpa_passphrase=" + p.Passphrase,
	}
	return strings.Join(lines, "\n") + "\n"
}

// Dnsmasq is the DHCP and DNS configuration (dnsmasq(8),
// https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html). It serves the AP interface only
// (bind-interfaces), reads neither /etc/hosts nor /etc/dnsmasq.conf (the command line names
// this file with --conf-file), and logs every question and lease to stderr, which the lab
// copies into dnsmasq.log and the fake internet's log. Offline, every name resolves to the lab
// host (address=/#/ answers A and AAAA) and router advertisements give phones an address in the
// lab's IPv6 prefix, so AAAA answers lead to the fake internet too.
func (p Plan) Dnsmasq() string {
	lo, hi := p.DHCPRange()
	ip := p.LabIP().String()
	lines := []string{
		"# droneaudit lab DHCP and DNS; options: https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html",
		"interface=" + p.AP,
		"bind-interfaces",
		"listen-address=" + ip,
		"no-hosts",
		"log-facility=-",
		"log-queries=extra",
		"log-dhcp",
		fmt.Sprintf("dhcp-range=%s,%s,%s,12h", lo, hi, p.Netmask()),
		"dhcp-option=option:router," + ip,
		"dhcp-option=option:dns-server," + ip,
		"dhcp-authoritative",
		"dhcp-leasefile=" + p.Path("dnsmasq.leases"),
	}
	if p.Offline() {
		lines = append(lines, "no-resolv", "address=/#/"+ip)
	}
	if p.ipv6() {
		lines = append(lines,
			"address=/#/"+LabULA.Addr().String(),
			"listen-address="+LabULA.Addr().String(),
			"enable-ra",
			"dhcp-range=::,constructor:"+p.AP+",ra-only",
		)
	}
	return strings.Join(lines, "\n") + "\n"
}

// Nftables is the lab's ruleset: one table of its own (nft(8), "inet" covers IPv4 and IPv6;
// https://wiki.nftables.org/wiki-nftables/index.php/Performing_Network_Address_Translation_(NAT)).
// Offline, the forward chain drops everything and counts it, TCP from the lab devices to any
// address and port is redirected to the fake internet, DNS to any resolver goes to dnsmasq, and
// the common UDP ports go to the fake internet's readers. With an uplink, the AP's traffic is
// forwarded and masqueraded, and only answers come back.
func (p Plan) Nftables() string {
	var b strings.Builder
	ap := strconv.Quote(p.AP)
	fmt.Fprintf(&b, "# droneaudit lab ruleset: nft -f %s; removed with: nft delete table inet %s\n", NftRuleset, Table)
	fmt.Fprintf(&b, "table inet %s {\n", Table)
	if p.Offline() {
		ports := make([]string, len(FakeUDPPorts))
		for i, v := range FakeUDPPorts {
			ports[i] = strconv.Itoa(int(v))
		}
		fmt.Fprintf(&b, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n")
		fmt.Fprintf(&b, "\t\tiifname %s meta l4proto { tcp, udp } th dport 53 redirect to :53\n", ap)
		fmt.Fprintf(&b, "\t\tiifname %s meta l4proto tcp counter redirect to :%d\n", ap, FakeTCPPort)
		fmt.Fprintf(&b, "\t\tiifname %s udp dport { %s } counter redirect\n", ap, strings.Join(ports, ", "))
		fmt.Fprintf(&b, "\t}\n")
		fmt.Fprintf(&b, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n")
		fmt.Fprintf(&b, "\t\tcounter drop comment \"offline lab: nothing is forwarded\"\n\t}\n")
	} else {
		up := strconv.Quote(p.Uplink)
		fmt.Fprintf(&b, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n")
		fmt.Fprintf(&b, "\t\tiifname %s oifname %s counter accept\n", ap, up)
		fmt.Fprintf(&b, "\t\tiifname %s oifname %s ct state established,related counter accept\n\t}\n", up, ap)
		fmt.Fprintf(&b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n")
		fmt.Fprintf(&b, "\t\toifname %s ip saddr %s masquerade\n\t}\n", up, p.Subnet)
	}
	b.WriteString("}\n")
	return b.String()
}

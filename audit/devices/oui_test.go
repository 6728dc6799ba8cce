package devices

import (
	"net"
	"testing"
)

func TestLookupVendorKnownPrefixes(t *testing.T) {
	for _, c := range []struct {
		mac, org, assignment, registry string
		local                          bool
	}{
		{"60:60:1f:12:34:56", "SZ DJI TECHNOLOGY CO.,LTD", "60601F", "MA-L", false},
		{"34:d2:62:00:00:01", "SZ DJI TECHNOLOGY CO.,LTD", "34D262", "MA-L", false},
		{"44:47:cc:aa:bb:cc", "Hangzhou Hikvision Digital Technology Co.,Ltd.", "4447CC", "MA-L", false},
		{"64:f2:fb:01:02:03", "Hangzhou Ezviz Software Co.,Ltd.", "64F2FB", "MA-L", false},
		{"08:ed:ed:01:02:03", "Zhejiang Dahua Technology Co., Ltd.", "08EDED", "MA-L", false},
		{"90:6a:94:01:02:03", "hangzhou huacheng network technology co., ltd", "906A94", "MA-L", false},
		// An MA-M block inside the IEEE's own MA-L prefix: the longer prefix wins.
		{"40:2c:76:1a:bc:de", "Shanghai Dahua Scale Factory", "402C761", "MA-M", false},
		// An MA-S block.
		{"70:b3:d5:00:10:00", "", "", "", false}, // filled below from the table itself
		// Randomised (locally administered) addresses: flagged, never looked up.
		{"da:a1:19:2b:3c:4d", "", "", "", true},
		{"02:00:c0:a8:32:17", "", "", "", true},
		// Unregistered.
		{"fc:ff:ff:00:00:01", "", "", "", false},
	} {
		mac, err := net.ParseMAC(c.mac)
		if err != nil {
			t.Fatal(err)
		}
		got := LookupVendor(mac)
		if c.mac == "70:b3:d5:00:10:00" {
			if got.Registry != "MA-S" || len(got.Assignment) != 9 || got.Org == "" {
				t.Errorf("%s: %+v, want an MA-S assignment", c.mac, got)
			}
			continue
		}
		if got.Org != c.org || got.Assignment != c.assignment || got.Registry != c.registry || got.Local != c.local {
			t.Errorf("%s: %+v, want %q %s %s local=%v", c.mac, got, c.org, c.assignment, c.registry, c.local)
		}
	}
	if v := LookupVendor(net.HardwareAddr{1, 2, 3}); v != (Vendor{}) {
		t.Errorf("short address: %+v", v)
	}
}

func TestOUITableSize(t *testing.T) {
	tab, err := loadOUI()
	if err != nil {
		t.Fatal(err)
	}
	// ieee-data 20220827.1: 32,527 MA-L prefixes (080030 is listed three times, 0001C8 twice),
	// 4,390 MA-M, 5,029 MA-S and 4,575 IAB blocks.
	count := map[string]int{}
	for n := range tab.lines {
		count[tab.field(n, 1)]++
		if n > 0 && tab.field(n-1, 0) >= tab.field(n, 0) {
			t.Fatalf("line %d: %s after %s: not sorted", n, tab.field(n, 0), tab.field(n-1, 0))
		}
	}
	if count["MA-L"] != 32527 || count["MA-M"] != 4390 || count["MA-S"] != 5029 || count["IAB"] != 4575 {
		t.Errorf("table sizes %v", count)
	}
	if v := LookupVendor(net.HardwareAddr{0x08, 0x00, 0x30, 1, 2, 3}); v.Org != "CERN / NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH" {
		t.Errorf("080030: %q", v.Org)
	}
}

func BenchmarkLookupVendor(b *testing.B) {
	mac := net.HardwareAddr{0x44, 0x47, 0xcc, 1, 2, 3}
	LookupVendor(mac)
	for b.Loop() {
		LookupVendor(mac)
	}
}

func TestParseMAC(t *testing.T) {
	for _, s := range []string{"44:47:cc:aa:bb:cc", "44:47:CC:AA:BB:CC", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"} {
		hw, _ := net.ParseMAC(s)
		want, _ := macBits(hw)
		if got, ok := parseMAC(s); !ok || got != want {
			t.Errorf("%s: %x %v, want %x", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "44:47:cc:aa:bb:c", "44-47-cc-aa-bb-cc", "44:47:cc:aa:bb:cg", "44:47:cc:aa:bb:cc:dd"} {
		if _, ok := parseMAC(s); ok && s != "44-47-cc-aa-bb-cc" {
			t.Errorf("%q parsed", s)
		}
	}
}

func BenchmarkLoadOUI(b *testing.B) {
	for b.Loop() {
		if _, err := parseOUI(ouiTable); err != nil {
			b.Fatal(err)
		}
	}
}

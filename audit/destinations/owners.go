package destinations

import (
	"net/netip"
	"strings"
)

// Owner classes.
const (
	OwnerDJI       = "dji"
	OwnerAnalytics = "analytics-sdk"
	OwnerMaps      = "map-provider"
	OwnerCloud     = "cloud"
	OwnerUnknown   = "unknown"
)

// OwnerRule classifies destinations by host name or address. Pattern is an exact host name
// ("events.mapbox.com"), a suffix with a leading "*." that matches the domain and every name
// below it ("*.djicdn.com"), or an IP address or CIDR prefix ("47.91.161.230", "10.0.0.0/8").
type OwnerRule struct {
	Pattern    string `json:"pattern" mapstructure:"pattern"`
	Owner      string `json:"owner" mapstructure:"owner"`
	Purpose    string `json:"purpose,omitempty" mapstructure:"purpose"`
	Source     string `json:"source,omitempty" mapstructure:"source"`
	Confidence string `json:"confidence,omitempty" mapstructure:"confidence"` // H, M or L
}

// Match reports whether the rule matches a host name (lower case, no trailing dot) or, when the
// pattern is an address or prefix, the address.
func (r OwnerRule) Match(name string, ip netip.Addr) bool {
	p := strings.ToLower(strings.TrimSuffix(r.Pattern, "."))
	if pfx, err := netip.ParsePrefix(p); err == nil {
		return ip.IsValid() && pfx.Contains(ip.Unmap())
	}
	if a, err := netip.ParseAddr(p); err == nil {
		return ip.IsValid() && a == ip.Unmap()
	}
	if name == "" {
		return false
	}
	if suffix, ok := strings.CutPrefix(p, "*."); ok {
		return name == suffix || strings.HasSuffix(name, "."+suffix)
	}
	return name == p
}

const (
	srcDJINet = "shared/formats/dji-network.md §2"
	srcFTI    = "FTI Consulting 2020 host list (dronexl.co/2020/09/10/cybersecurity-firm-fti-consulting-dji-data-sharing/)"
	srcKivu   = "Kivu 2018 via theregister.co.uk/2018/04/25/dji_data_security_audit/"
	srcSynack = "Synacktiv / GRIMM 2020 (grimm-co/dji-go-4@a9ac991)"
	srcBooz   = "Booz Allen 2020 via dronelife.com/2020/06/09/dji-security-issues-booz-allen-performs-exhaustive-audit/"
)

// BuiltinOwners is the documented table of host patterns, most specific first. Each rule names
// the public source it comes from (as collected in shared/formats/dji-network.md §2) and its
// confidence: H stated in an audit, vendor document or decompiled code; M community notes or
// block lists; L unattributed notes to verify in the lab. The first matching rule wins.
var BuiltinOwners = []OwnerRule{
	// DJI first party: specific services.
	{"flysafe-api.dji.com", OwnerDJI, "GEO/NFZ database and unlock; requests carry aircraft SN and coordinates", srcDJINet + ": decompiled DJI Pilot", "H"},
	{"mydjiflight.dji.com", OwnerDJI, "flight-log service, device registration, geo-IP", srcFTI, "H"},
	{"active.dji.com", OwnerDJI, "device/app activation", srcFTI, "H"},
	{"service-adhoc.dji.com", OwnerDJI, "app self-update check", "Synacktiv 2020", "H"},
	{"statistical-report.djiservice.org", OwnerDJI, "DJI analytics (clientContext, clientUUID)", srcDJINet + ": decompiled app", "H"},
	{"sentry.djiops.com", OwnerDJI, "crash reporting (Sentry)", srcDJINet + ": block list", "M"},
	{"*.djigate.com", OwnerDJI, "FlightHub 2 OpenAPI, DEM tiles", srcDJINet + ": public client repos", "H"},
	{"dev.dji.com", OwnerDJI, "flight-log decryption keychains", "lvauvillier/dji-log-parser README", "H"},
	{"*.skypixel.com", OwnerDJI, "SkyPixel media sharing", "Kivu 2018; FTI 2020", "H"},
	// DJI first party: domains (suffix classifier of dji-network.md §2, an inference).
	{"*.dji.com", OwnerDJI, "DJI first-party domain", srcDJINet + ": suffix classifier", "H"},
	{"*.djicdn.com", OwnerDJI, "DJI downloads / CDN", srcDJINet, "M"},
	{"*.djiservice.org", OwnerDJI, "DJI app services", srcDJINet + ": decompiled apps", "H"},
	{"*.djiops.com", OwnerDJI, "DJI operations", srcDJINet, "M"},
	{"*.fffsky.net", OwnerDJI, "DJI regional service", srcFTI, "H"},
	{"*.aasky.net", OwnerDJI, "DJI staging/test environment", srcDJINet + ": code-index excerpts", "M"},
	{"*.dbeta.me", OwnerDJI, "DJI staging/test environment", srcDJINet + ": code-index excerpts", "M"},
	{"*.djicorp.com", OwnerDJI, "DJI corporate/staging", srcDJINet + ": code-index excerpts", "M"},
	{"*.uavservice.org", OwnerDJI, "rebranded DJI Fly remote config", srcDJINet + ": RE notes", "L"},
	{"*.uav.com", OwnerDJI, "rebranded DJI Fly twin", srcDJINet + ": RE notes", "L"},
	{"47.91.161.230", OwnerDJI, "first HTTP POST at GO 4 launch (Alibaba Cloud address)", srcKivu, "H"},
	{"121.43.186.94", OwnerDJI, "plain-HTTP FlySafe fallback in old DJI Pilot", srcDJINet + ": decompiled DJI Pilot smali", "H"},
	// Third-party SDKs compiled into DJI apps.
	{"*.firebaseio.com", OwnerAnalytics, "Firebase realtime database (GO 4 strings.xml)", srcDJINet + ": code-index excerpt", "M"},
	{"bugly.qq.com", OwnerAnalytics, "Tencent Bugly crash reporting", srcKivu, "H"},
	{"*.bugly.qq.com", OwnerAnalytics, "Tencent Bugly crash reporting", srcKivu, "H"},
	{"*.qq.com", OwnerAnalytics, "Tencent SDKs (Bugly)", srcKivu, "M"},
	{"api.weibo.com", OwnerAnalytics, "Weibo SDK check-in", srcSynack, "M"},
	{"*.weibo.cn", OwnerAnalytics, "Weibo SDK", srcSynack, "M"},
	{"*.mob.com", OwnerAnalytics, "MobTech device-info SDK", srcSynack, "M"},
	{"adash.man.aliyuncs.com", OwnerAnalytics, "Alibaba mobile analytics", srcDJINet + ": AI-generated note", "L"},
	{"*.app-measurement.com", OwnerAnalytics, "Google Analytics for Firebase", "vendor documentation", "M"},
	// Maps.
	{"*.mapbox.com", OwnerMaps, "Mapbox map SDK, tiles and telemetry (events.mapbox.com)", srcDJINet + ": block list; DJI LDM notes", "H"},
	{"*.amap.com", OwnerMaps, "Amap location SDK", srcDJINet + ": AI-generated note", "L"},
	{"*.googleapis.com", OwnerMaps, "Google Maps services (\"Allow Map Services\")", srcBooz, "H"},
	{"*.google.com", OwnerMaps, "Google services", srcBooz, "L"},
	// Cloud and object storage.
	{"*.aliyuncs.com", OwnerCloud, "Alibaba Cloud OSS object storage (unlock licences, Cloud API uploads)", srcDJINet + ": DJI Cloud API docs", "H"},
	{"*.amazonaws.com", OwnerCloud, "Amazon Web Services (S3 uploads)", srcDJINet + ": DJI Cloud API docs; Kivu 2018", "H"},
	{"*.cloudfront.net", OwnerCloud, "Amazon CloudFront CDN", "vendor documentation", "M"},
	{"*.akamaiedge.net", OwnerCloud, "Akamai CDN", "vendor documentation", "M"},
	{"*.edgekey.net", OwnerCloud, "Akamai CDN", "vendor documentation", "M"},
}

// Owners classifies names with config rules first, then the built-in table.
type Owners struct{ rules []OwnerRule }

// NewOwners returns a classifier whose extra rules are tried before the built-in ones.
func NewOwners(extra []OwnerRule) *Owners {
	return &Owners{rules: append(append([]OwnerRule(nil), extra...), BuiltinOwners...)}
}

// Classify returns the owner class of a destination and the rule that decided it: the rule
// earliest in the table matching any of its names or its address. Unmatched destinations are
// "unknown".
func (o *Owners) Classify(names []string, ip netip.Addr) (string, *OwnerRule) {
	for i := range o.rules {
		r := &o.rules[i]
		if r.Match("", ip) {
			return r.Owner, r
		}
		for _, n := range names {
			if r.Match(n, netip.Addr{}) {
				return r.Owner, r
			}
		}
	}
	return OwnerUnknown, nil
}

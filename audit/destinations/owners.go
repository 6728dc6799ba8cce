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
	// OwnerHikvision is Hikvision's cloud: Hik-Connect, Hik-ProConnect and EZVIZ (its consumer
	// brand) device registration, P2P/relay and app services.
	OwnerHikvision = "hikvision-cloud"
	// OwnerDahua is Dahua's cloud: the Easy4ip P2P service that DMSS and SmartPSS use, and the
	// Imou (its consumer brand, formerly Lechange) open platform and app services.
	OwnerDahua = "dahua-cloud"
)

// OwnerRule classifies destinations by host name, address or content. Pattern is an exact host
// name ("events.mapbox.com"), a suffix with a leading "*." that matches the domain and every
// name below it ("*.djicdn.com"), an IP address or CIDR prefix ("47.91.161.230", "10.0.0.0/8"),
// or "app:" and the name of a protocol recognised by content ("app:dahua-p2p"), for services
// whose servers are handed out at run time on varying addresses and ports.
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
	if name == "" || strings.HasPrefix(p, appPrefix) {
		return false
	}
	if suffix, ok := strings.CutPrefix(p, "*."); ok {
		return name == suffix || strings.HasSuffix(name, "."+suffix)
	}
	return name == p
}

// appPrefix starts a pattern that matches a destination by the protocol recognised on it.
const appPrefix = "app:"

// MatchApp reports whether the rule is an "app:" rule for the recognised protocol app.
func (r OwnerRule) MatchApp(app string) bool {
	name, ok := strings.CutPrefix(strings.ToLower(r.Pattern), appPrefix)
	return ok && app != "" && name == app
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
	// Hikvision: Hik-Connect, Hik-ProConnect and EZVIZ.
	{"*.hik-connect.com", OwnerHikvision, "Hik-Connect device registration (dev./litedev.hik-connect.com), P2P/relay and app API", srcHikTB + "; " + srcHikISAPI, "H"},
	{"*.hik-proconnect.com", OwnerHikvision, "Hik-ProConnect installer cloud", srcHikPro, "H"},
	{"*.ezvizlife.com", OwnerHikvision, "EZVIZ cloud: app API (apiieu.), CAS signalling (eucas.:6500), VTM video relays (vtm*.:8554)", srcHAEzviz + "; " + srcEzvizCAS, "H"},
	{"*.ezvizru.com", OwnerHikvision, "EZVIZ cloud for Russia (apirus.ezvizru.com)", srcHAEzviz, "H"},
	{"*.ys7.com", OwnerHikvision, "EZVIZ (Ys7) cloud and open platform in China (open.ys7.com)", "EZVIZ open platform documentation (open.ys7.com/doc)", "M"},
	{"*.hikvision.com", OwnerHikvision, "Hikvision first-party domain (firmware downloads, web services)", "vendor site", "M"},
	// Dahua: Easy4ip P2P (DMSS, SmartPSS), Imou and Lechange.
	{"*.easy4ipcloud.com", OwnerDahua, "Dahua P2P server (www.easy4ipcloud.com, UDP 8800): device registration, NAT traversal, relay hand-out", srcDHP2P, "H"},
	{"*.easy4ip.com", OwnerDahua, "Imou/Dahua open platform API (openapi.easy4ip.com and regional openapi-*.)", srcImou, "H"},
	{"*.imoulife.com", OwnerDahua, "Imou Life cloud and open platform (open.imoulife.com)", srcImou, "H"},
	{"*.lechange.cn", OwnerDahua, "Imou (Lechange) cloud in China (openapi.lechange.cn)", srcLechange, "M"},
	{"*.lechange.com", OwnerDahua, "Imou (Lechange) cloud", srcLechange, "L"},
	{"*.dahuasecurity.com", OwnerDahua, "Dahua first-party domain (web site, firmware downloads)", "vendor site", "M"},
	{"*.dahuatech.com", OwnerDahua, "Dahua first-party domain", "vendor site", "M"},
	{"app:dahua-p2p", OwnerDahua, "Dahua P2P/PTCP traffic recognised by content (DHGET/DHPOST requests over UDP, PTCP frames) on servers handed out at run time", srcDHP2P, "H"},
}

// Public sources of the camera cloud rules.
const (
	srcHikTB    = "Hikvision TB \"Adding a Device to a Hik-Connect Account\" v2.0 (manuals.plus)"
	srcHikISAPI = "Hikvision ISAPI /ISAPI/System/Network/EZVIZ configuration as devices return it (hostName litedev.hik-connect.com)"
	srcHikPro   = "Hik-ProConnect mobile user manual (ieu.hik-proconnect.com)"
	srcHAEzviz  = "home-assistant/core homeassistant/components/ezviz/const.py (EU_URL apiieu.ezvizlife.com, RUSSIA_URL apirus.ezvizru.com)"
	srcEzvizCAS = "RenierM26/pyEzvizApi (pyezvizapi.cas; eucas.ezvizlife.com:6500)"
	srcDHP2P    = "khoanguyen-3fc/dh-p2p helpers.py (MAIN_SERVER www.easy4ipcloud.com, MAIN_PORT 8800; DHGET/DHPOST, PTCP)"
	srcImou     = "user2684/imou_life README and imouapi (Imou Life Open API, openapi.easy4ip.com, open.imoulife.com)"
	srcLechange = "LCOpenSDK demo constants (openapi.lechange.cn:443 in China, openapi.easy4ip.com:443 overseas)"
)

// Owners classifies names with config rules first, then the built-in table.
type Owners struct{ rules []OwnerRule }

// NewOwners returns a classifier whose extra rules are tried before the built-in ones.
func NewOwners(extra []OwnerRule) *Owners {
	return &Owners{rules: append(append([]OwnerRule(nil), extra...), BuiltinOwners...)}
}

// Classify returns the owner class of a destination and the rule that decided it: the rule
// earliest in the table matching any of its names, its address or the protocol recognised on it
// (app, "" when none was). Unmatched destinations are "unknown".
func (o *Owners) Classify(names []string, ip netip.Addr, app string) (string, *OwnerRule) {
	for i := range o.rules {
		r := &o.rules[i]
		if r.Match("", ip) || r.MatchApp(app) {
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

package devices

import (
	"strings"
)

// Maker classes of devices.
const (
	ClassDJI       = "dji"
	ClassAutel     = "autel"
	ClassParrot    = "parrot"
	ClassSkydio    = "skydio"
	ClassYuneec    = "yuneec"
	ClassHikvision = "hikvision" // Hikvision and its consumer brand EZVIZ
	ClassDahua     = "dahua"     // Dahua and its consumer brand Imou
	ClassUniview   = "uniview"
	ClassAxis      = "axis"
	ClassHanwha    = "hanwha"
	ClassTiandy    = "tiandy"
	ClassReolink   = "reolink"
	ClassVivotek   = "vivotek"
	ClassMilesight = "milesight"
)

// Classes lists the maker classes, the values a policy's devices.deny_classes may name.
var Classes = []string{ClassDJI, ClassAutel, ClassParrot, ClassSkydio, ClassYuneec, ClassHikvision, ClassDahua, ClassUniview,
	ClassAxis, ClassHanwha, ClassTiandy, ClassReolink, ClassVivotek, ClassMilesight}

// ouiClasses maps IEEE organisation names (lower case, as a prefix of the registered name) to
// maker classes. EZVIZ (Hangzhou Ezviz Software) is Hikvision's consumer camera brand, Imou
// (Hangzhou Huacheng Network Technology) Dahua's; both list their parent on their sites.
var ouiClasses = []struct{ org, class string }{
	{"sz dji technology", ClassDJI},
	{"autel lntelligent technology", ClassAutel}, // sic: the registry spells it "lntelligent"
	{"autel intelligent technology", ClassAutel},
	{"autel robotics", ClassAutel},
	{"parrot sa", ClassParrot},
	{"skydio", ClassSkydio},
	{"yuneec", ClassYuneec},
	{"hangzhou hikvision digital technology", ClassHikvision},
	{"hangzhou ezviz software", ClassHikvision},
	{"zhejiang dahua technology", ClassDahua},
	{"hangzhou huacheng network technology", ClassDahua},
	{"zhejiang uniview technologies", ClassUniview},
	{"axis communications", ClassAxis},
	{"hanwha techwin", ClassHanwha},
	{"samsung techwin", ClassHanwha},
	{"tiandy technologies", ClassTiandy},
	{"reolink", ClassReolink},
	{"vivotek", ClassVivotek},
	{"milesight", ClassMilesight},
	{"xiamen milesight", ClassMilesight},
}

// keywords are maker names that devices put in what they announce (host names, mDNS names,
// SSDP SERVER lines, ONVIF name scopes), matched as whole words without case.
var keywords = []struct{ word, class string }{
	{"dji", ClassDJI},
	{"hikvision", ClassHikvision},
	{"ezviz", ClassHikvision},
	{"hik-connect", ClassHikvision},
	{"dahua", ClassDahua},
	{"imou", ClassDahua},
	{"lechange", ClassDahua},
	{"easy4ip", ClassDahua},
	{"uniview", ClassUniview},
	{"reolink", ClassReolink},
	{"skydio", ClassSkydio},
	{"autel", ClassAutel},
	{"yuneec", ClassYuneec},
}

// classify returns the maker class of a device from its signs, strongest first: the IEEE
// registration of its address, then what it announced (ONVIF scopes, DHCP, mDNS, SSDP, LLMNR).
// A white-label product announces its reseller's name over a maker's address; both are listed.
func classify(r *Row) (string, []string) {
	var signs []string
	class := ""
	add := func(c, where, what string) {
		s := c + ": " + where + ": " + what
		for _, o := range signs {
			if o == s {
				return
			}
		}
		signs = append(signs, s)
		if class == "" {
			class = c
		}
	}
	if r.Vendor != "" {
		org := strings.ToLower(r.Vendor)
		for _, oc := range ouiClasses {
			if strings.HasPrefix(org, oc.org) {
				add(oc.class, "oui", r.Vendor)
				break
			}
		}
	}
	// SADP is Hikvision's own discovery protocol: a device that answers it runs Hikvision's
	// firmware, under whatever brand it is sold.
	for _, m := range r.SADP.Models {
		add(ClassHikvision, "sadp", m)
	}
	if len(r.SADP.Models) == 0 && len(r.SADP.Serials) > 0 {
		add(ClassHikvision, "sadp", r.SADP.Serials[0])
	}
	texts := []struct {
		where string
		list  []string
	}{
		{"onvif name", r.ONVIF.Names}, {"onvif model", r.ONVIF.Models},
		{"dhcp host name", r.DHCP.HostNames}, {"dhcp vendor class", r.DHCP.VendorClasses},
		{"mdns name", r.MDNS.Names}, {"ssdp server", r.SSDP.Servers}, {"llmnr name", r.LLMNRNames},
		{"upnp manufacturer", r.UPnP.Manufacturers}, {"upnp model", r.UPnP.ModelNames}, {"upnp name", r.UPnP.FriendlyNames},
	}
	for _, t := range texts {
		for _, v := range t.list {
			for _, kw := range keywords {
				if hasWord(v, kw.word) {
					add(kw.class, t.where, v)
				}
			}
		}
	}
	for _, i := range r.MDNS.Instances {
		for _, kw := range keywords {
			if hasWord(i.Name, kw.word) {
				add(kw.class, "mdns instance", i.Name)
			}
		}
	}
	if signs == nil {
		signs = []string{}
	}
	return class, signs
}

// hasWord reports whether word occurs in s without case, not inside a longer word.
func hasWord(s, word string) bool {
	ls := strings.ToLower(s)
	for i := 0; ; {
		j := strings.Index(ls[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !alnum(ls[j-1])) && (end == len(ls) || !alnum(ls[end])) {
			return true
		}
		i = j + 1
	}
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

package destinations

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A policy that names what does not exist is an error naming the key: before, deny_owners:
// [dij], deny_countries: [china] and deny_hosts: ["47.88.0.0/99"] were accepted and never
// matched, and the README's "analytics" was no class at all.
func TestPolicyValidate(t *testing.T) {
	p := Policy{DenyOwners: []string{"DJI", "analytics", "maps", "lab-relay"}, DenyCountries: []string{"cn", "RU", "XK"},
		DenyHosts: []string{"*.djiservice.org", "47.88.0.0/16", "2001:db8::/32", "10.1.2.3", "events.mapbox.com"}}
	if err := p.Validate([]string{"lab-relay"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.DenyOwners, ",") != "dji,analytics-sdk,map-provider,lab-relay" || strings.Join(p.DenyCountries, ",") != "CN,RU,XK" {
		t.Fatalf("not canonical: %+v", p)
	}
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{DenyOwners: []string{"dij"}}, `deny_owners: "dij" is no owner class`},
		{Policy{DenyOwners: []string{"lab-relay"}}, `deny_owners: "lab-relay"`},
		{Policy{DenyCountries: []string{"china"}}, `deny_countries: "china" is no ISO 3166-1 alpha-2`},
		{Policy{DenyCountries: []string{"ZZ"}}, `deny_countries: "ZZ"`},
		{Policy{DenyHosts: []string{"47.88.0.0/99"}}, `deny_hosts: "47.88.0.0/99" is no CIDR prefix`},
		{Policy{DenyHosts: []string{"https://dji.com/"}}, `deny_hosts: "https://dji.com/"`},
		{Policy{DenyHosts: []string{"dji*.com"}}, `deny_hosts: "dji*.com" is no host pattern`},
		{Policy{DenyHosts: []string{""}}, `deny_hosts: "" is no host pattern`},
	} {
		err := c.p.Validate(nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.p, err, c.want)
		}
	}
}

// Every owner rule cites a source anyone can read: a public address, or docs/OWNERS.md in this
// repository, which explains each of its citations. (Before, the table cited
// shared/formats/dji-network.md, a document outside the repository.)
func TestOwnerSourcesArePublic(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "OWNERS.md"))
	if err != nil {
		t.Fatal(err)
	}
	docRef := regexp.MustCompile(`docs/OWNERS\.md: ([^;]+)`)
	for _, r := range BuiltinOwners {
		if r.Source == "" || strings.Contains(r.Source, "shared/") || strings.Contains(r.Source, "dji-network") {
			t.Errorf("%s: source %q", r.Pattern, r.Source)
		}
		for _, part := range strings.Split(r.Source, "; ") {
			if m := docRef.FindStringSubmatch(part); m != nil {
				if !strings.Contains(string(doc), "docs/OWNERS.md: "+m[1]+" |") {
					t.Errorf("%s: docs/OWNERS.md does not explain %q", r.Pattern, m[1])
				}
				continue
			}
			if !strings.Contains(part, "https://") {
				t.Errorf("%s: source %q names no public address", r.Pattern, part)
			}
		}
		if err := CheckPattern(r.Pattern); err != nil {
			t.Errorf("built-in rule: %v", err)
		}
		if _, ok := OwnerClass(r.Owner, nil); !ok {
			t.Errorf("%s: class %q", r.Pattern, r.Owner)
		}
	}
}

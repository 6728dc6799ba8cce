package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"droneaudit/audit"
	"droneaudit/audit/destinations"
	"droneaudit/geo"
)

// The configuration is strict: a key nobody reads is a mistake (a misspelt "zone:" or "polcy:"
// would otherwise leave the audit without zones or with the default policy, silently), and so is
// a value that can never match. Both are usage errors (exit 2) that name the key.

// configSections are the keys that hold other keys; an empty section is allowed.
var configSections = []string{"policy", "policy.destinations", "policy.devices", "geoip"}

// configOnlyKeys are the keys of the configuration that are no flag.
func configOnlyKeys() []string {
	keys := []string{"owners", "geoip.country_db", "geoip.asn_db", "geoip.country_attribution", "geoip.asn_attribution", "zones_region"}
	for _, k := range audit.PolicyKeys {
		keys = append(keys, "policy."+k)
	}
	return keys
}

// commandFormats lists the output formats of each command that has --format.
func commandFormats(name string) []string {
	switch name {
	case "audit", "broadcasts", "capture":
		return []string{"text", "json"}
	case "destinations":
		return []string{"text", "json", "csv"}
	case "fixes":
		return audit.FixFormats
	}
	return nil
}

// pathKeys are the keys whose values are file or folder names: a relative one in a configuration
// file is taken from the file's folder, wherever droneaudit runs.
var pathKeys = []string{"zones", "out", "report-dir", "keylog", "write-dir", "geoip.country_db", "geoip.asn_db"}

// topCommand is the command under the root that cmd belongs to ("zones" for "zones check").
func topCommand(cmd *cobra.Command) *cobra.Command {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd
}

// knownKeys lists every key a configuration may hold: every flag of every command (globally, and
// under the command's name for that command only) and the configuration-only keys.
func knownKeys(root *cobra.Command) map[string]bool {
	known := map[string]bool{}
	add := func(prefix string, fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" || f.Name == "config" {
				return
			}
			known[f.Name] = true
			if prefix != "" {
				known[prefix+"."+f.Name] = true
			}
		})
	}
	add("", root.PersistentFlags())
	for _, c := range root.Commands() {
		known[c.Name()] = true // an empty section
		add(c.Name(), c.Flags())
		add(c.Name(), c.PersistentFlags())
		for _, sub := range c.Commands() {
			add(c.Name(), sub.Flags())
		}
	}
	for _, k := range append(configOnlyKeys(), configSections...) {
		known[k] = true
	}
	return known
}

// checkConfigKeys refuses a configuration file with a key droneaudit does not read.
func checkConfigKeys(path string, fileKeys []string, known map[string]bool) error {
	for _, k := range fileKeys {
		if known[k] {
			continue
		}
		msg := fmt.Sprintf("config %s: unknown key %q", path, k)
		if s := suggest(k, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError("%s", msg)
	}
	return nil
}

// suggest returns the known key closest to k, if it is close.
func suggest(k string, known map[string]bool) string {
	best, bestD := "", 3
	for c := range known {
		if d := editDistance(k, c); d < bestD || d == bestD && best != "" && c < best {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// envName is the environment variable of a key.
func envName(key string) string {
	return "DRONEAUDIT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

// lookupEnv returns a DRONEAUDIT_* variable's value; set but empty counts as unset.
func lookupEnv(key string) (string, bool) {
	v, ok := os.LookupEnv(envName(key))
	return v, ok && v != ""
}

// envOnly are DRONEAUDIT_* variables that are no configuration key.
var envOnly = []string{"DRONEAUDIT_CORPUS", "DRONEAUDIT_CPUPROFILE"}

// unknownEnv lists the DRONEAUDIT_* variables that name no key.
func unknownEnv(known map[string]bool) []string {
	names := map[string]bool{}
	for k := range known {
		names[envName(k)] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DRONEAUDIT_") && v != "" && !names[k] && !slices.Contains(envOnly, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// applyCommandConfig settles, for the running command, the values that depend on where they come
// from, and writes them into v:
//   - a key under the command's own section ("fixes: {format: csv}", DRONEAUDIT_FIXES_FORMAT)
//     is that command's default, over the global key;
//   - a global format the command has no use for (format: json for fixes) is ignored, so a
//     global setting meant for one command does not break another; a flag or a command's own
//     format is checked strictly;
//   - --out infers the format from its extension (.json, .txt) unless --format is given;
//   - a relative path from a configuration file is taken from that file's folder.
func applyCommandConfig(cmd *cobra.Command, v, file *viper.Viper, cfgDir string) error {
	top := topCommand(cmd)
	name := top.Name()
	fs := cmd.Flags()
	fromFile := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "format" {
			return
		}
		if val, ok := lookupEnv(name + "." + f.Name); ok {
			v.Set(f.Name, val)
			return
		}
		if _, ok := lookupEnv(f.Name); ok {
			return // the global variable, as viper reads it
		}
		if file != nil && file.IsSet(name+"."+f.Name) {
			v.Set(f.Name, file.Get(name+"."+f.Name))
			fromFile[f.Name] = true
			return
		}
		if file != nil && file.IsSet(f.Name) {
			fromFile[f.Name] = true
		}
	})
	if err := resolveFormat(cmd, v, file, name); err != nil {
		return err
	}
	for _, k := range pathKeys {
		if fs.Lookup(k) == nil && !strings.Contains(k, ".") {
			continue
		}
		if strings.Contains(k, ".") {
			_, env := lookupEnv(k)
			fromFile[k] = !env && file != nil && file.IsSet(k)
		}
		p := v.GetString(k)
		if fromFile[k] && p != "" && !filepath.IsAbs(p) && cfgDir != "" {
			v.Set(k, filepath.Join(cfgDir, p))
		}
	}
	return nil
}

// resolveFormat picks the command's output format, the first of: the flag; the extension of
// --out (.json, .txt) on a command that has it; the environment (the command's own variable, then
// the global one); the file (the command's own section, then the global key); the flag's default.
// A global value the command has no such format for is passed over (format: json is meant for
// audit, not for fixes); the flag and the command's own settings are checked strictly.
func resolveFormat(cmd *cobra.Command, v, file *viper.Viper, name string) error {
	f := cmd.Flags().Lookup("format")
	if f == nil {
		return nil
	}
	allowed := commandFormats(name)
	type source struct {
		val, from string
		global    bool
	}
	var cands []source
	if f.Changed {
		cands = append(cands, source{f.Value.String(), "--format", false})
	}
	if cmd.Flags().Lookup("out") != nil {
		switch strings.ToLower(filepath.Ext(v.GetString("out"))) {
		case ".json":
			cands = append(cands, source{"json", "the extension of --out", false})
		case ".txt", ".text":
			cands = append(cands, source{"text", "the extension of --out", false})
		}
	}
	if val, ok := lookupEnv(name + ".format"); ok {
		cands = append(cands, source{val, envName(name + ".format"), false})
	}
	if val, ok := lookupEnv("format"); ok {
		cands = append(cands, source{val, envName("format"), true})
	}
	if file != nil && file.IsSet(name+".format") {
		cands = append(cands, source{file.GetString(name + ".format"), name + ".format in the configuration", false})
	}
	if file != nil && file.IsSet("format") {
		cands = append(cands, source{file.GetString("format"), "format in the configuration", true})
	}
	for _, c := range cands {
		if allowed == nil || slices.Contains(allowed, c.val) {
			v.Set("format", c.val)
			return nil
		}
		if !c.global {
			return usageError("%s %q: %s wants one of %s", c.from, c.val, name, strings.Join(allowed, ", "))
		}
		slog.Debug("global format not used by this command", "command", name, "format", c.val, "from", c.from)
	}
	v.Set("format", f.DefValue)
	return nil
}

// reportLocation is the time zone of the text reports, from --tz (default: the system's zone).
var reportLocation = time.Local

// loadLocation reads --tz: an IANA zone name ("Europe/Brussels"), "UTC" or "Local".
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, usageError("--tz %q: not a time zone (want a name such as Europe/Brussels, UTC or Local)", name)
	}
	return loc, nil
}

// loadPolicy reads the policy key by key, from flags, environment and file alike
// (DRONEAUDIT_POLICY_FAIL_ON=secret works as well as policy.fail_on in the file), and checks
// every value. classes are the owner classes the configuration's owner rules define. base, when
// not nil, is a policy file (the demo's own) used only when the configuration sets no policy key:
// a policy is taken whole from one place, never mixed.
func loadPolicy(classes []string, base *viper.Viper) (audit.Policy, error) {
	p := audit.DefaultPolicy()
	for _, k := range audit.PolicyKeys {
		if cfg.IsSet("policy." + k) {
			base = nil
			break
		}
	}
	for _, k := range audit.PolicyKeys {
		key := "policy." + k
		var raw any
		switch {
		case cfg.IsSet(key):
			raw = cfg.Get(key)
		case base != nil && base.IsSet(key):
			raw = base.Get(key)
		default:
			continue
		}
		switch k {
		case "fail_on_broadcast_pilot", "fail_on_device", "fail_on_cleartext_telemetry", "fail_on_flight_log_upload", "fail_on_tls_pinning", "fail_on_track_leak", "devices.closed_segment":
			b, err := boolValue(raw)
			if err != nil {
				return p, usageError("%s: %v", key, err)
			}
			*map[string]*bool{"fail_on_broadcast_pilot": &p.FailOnBroadcastPilot, "fail_on_device": &p.FailOnDevice,
				"fail_on_cleartext_telemetry": &p.FailOnCleartextTelemetry, "fail_on_flight_log_upload": &p.FailOnFlightLogUpload, "fail_on_tls_pinning": &p.FailOnTLSPinning, "fail_on_track_leak": &p.FailOnTrackLeak, "devices.closed_segment": &p.Devices.ClosedSegment}[k] = b
			continue
		}
		list, err := stringList(raw)
		if err != nil {
			return p, usageError("%s: %v", key, err)
		}
		switch k {
		case "fail_on":
			p.FailOn = nil
			for _, s := range list {
				p.FailOn = append(p.FailOn, geo.Sensitivity(s))
			}
		case "fail_scopes":
			p.FailScopes = list
		case "destinations.deny_owners":
			p.Destinations.DenyOwners = list
		case "destinations.deny_countries":
			p.Destinations.DenyCountries = list
		case "destinations.deny_hosts":
			p.Destinations.DenyHosts = list
		case "devices.deny_classes":
			p.Devices.DenyClasses = list
		}
	}
	if err := p.Validate(classes...); err != nil {
		return p, usageError("%v", err)
	}
	return p, nil
}

// stringList reads a list from the configuration: a YAML list, or a string of items separated by
// commas or spaces (an environment variable).
func stringList(raw any) ([]string, error) {
	switch x := raw.(type) {
	case nil:
		return []string{}, nil
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }), nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list, got %v", raw)
}

func boolValue(raw any) (bool, error) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("%q: want true or false", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("%v: want true or false", raw)
}

// ownerRules reads the extra owner rules of the configuration, each checked: only the fields
// pattern, owner, purpose, source and confidence; a valid pattern; confidence H, M or L.
func ownerRules() ([]destinations.OwnerRule, error) {
	var rules []destinations.OwnerRule
	if err := cfg.UnmarshalKey("owners", &rules, func(dc *mapstructure.DecoderConfig) { dc.ErrorUnused = true }); err != nil {
		return nil, usageError("config owners: %v", err)
	}
	for i, r := range rules {
		if r.Pattern == "" || r.Owner == "" {
			return nil, usageError("config owners[%d]: pattern and owner are required", i)
		}
		if err := destinations.CheckPattern(r.Pattern); err != nil {
			return nil, usageError("config owners[%d].pattern: %v", i, err)
		}
		switch r.Confidence {
		case "", "H", "M", "L":
		default:
			return nil, usageError("config owners[%d].confidence %q: want H, M or L", i, r.Confidence)
		}
		if c, ok := destinations.OwnerClass(r.Owner, nil); ok {
			rules[i].Owner = c // an alias of a built-in class
		}
	}
	return rules, nil
}

// ruleClasses are the owner classes the configuration's rules name.
func ruleClasses(rules []destinations.OwnerRule) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(out, r.Owner) {
			out = append(out, r.Owner)
		}
	}
	return out
}

package main

import (
	"bytes"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"droneaudit/audit"
	"droneaudit/geo"
	"droneaudit/internal/demo"
)

func init() { addCommand(newAuditCmd) }

func newAuditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit [--zones ZONES] [--format text|json] [-o DIR] [--example flight|segment] [INPUT...]",
		Short: "Decode the inputs, match every position against the zones and give a verdict",
		Long: `audit decodes all inputs (captures, flight and telemetry logs; folders are walked and decoded
in parallel), matches every position against the sensitive zones, and prints the findings and a
verdict against the policy.

Inputs are regular files, folders, or - for standard input; gzip-compressed inputs are read as
what they hold (the SHA-256 reported is of the file as stored). In a folder, hidden entries, named
pipes, sockets, devices and symlinks that leave the folder are listed as skipped, never read.
--out writes the report beside the terminal output; it never replaces an input or writes into an
input folder, and replaces an existing file only with --force.

--extract DIR writes every object an HTTP body carried (the body with its content codings undone,
or each multipart part) into DIR, named by its SHA-256, mode 0600, never overwriting; DIR may not
lie in an input folder. Flight records and pictures in bodies are decoded like files on disk in
any case.

--report-dir (-o) DIR writes the case-file reports into DIR (made if missing), each mode 0600:
report.json (the full document, docs/report-schema.md), report.md, report.html (self-contained:
verdict, an SVG map, destinations, a timeline, every finding with its evidence), findings.geojson
(zones, tracks and leak points as layers) and SHA256SUMS over them. The same inputs give the same
bytes. --case and --examiner are printed in every report; --redact replaces coordinates in the
human reports (text, Markdown, HTML) with zone names and distances. Like --out, DIR is never an
input or inside an input folder, and its report files are replaced only with --force.

The verdict is PASS (exit 0) only when every named input was read whole, positions or
destinations were checked against a zone file and the policy, and nothing fails it. FAIL (exit 3)
means a finding fails the policy; when the audit was also incomplete the verdict line says so.
Anything else is INCOMPLETE (exit 1), with the reasons listed first: a missing or unreadable
input, an input not read to its end, no zone file, nothing decoded, or an interrupted run (Ctrl-C
or SIGTERM still write the report of what was read). 2 is a usage mistake.

Scopes: a position or a contact is on-device (loopback), on the lab network (private and
link-local addresses), on the internet, or broadcast (over the air, or to 255.255.255.255). By
default a position inside a secret or restricted zone fails when it reaches the internet or is
broadcast; sent to the lab network it is a finding that does not fail.

The known-value search (on unless --no-search) looks for the zones' coordinates in every
off-device payload of the captures in any encoding: decimal text, integers scaled 1e5/1e6/1e7
(binary, and printed as text), radians, IEEE floats, protobuf fields, geohashes, also inside hex,
base64 and percent-encoded runs. Its findings name the encoding, the byte offset in the stream and the precision; positions
a decoder already understood are not reported twice. It also looks for the flown track: the log
files are decoded before the captures, and a point near their track, or near the telemetry a
capture itself carries (held until the capture is read), is a track-leak finding
(--no-track-search leaves the track out).

Without --format, the extension of --out (.json, .txt) gives the format. Times
in the text report are shown in --tz (default: the system's zone); JSON keeps RFC 3339 UTC, and a
device's own clock (SRT subtitles) is marked "device-local", never shown as UTC.

Without inputs it runs on the embedded demo session, under its own policy and zone file (a
policy in the configuration, or --zones, replaces them): a police lab's test of a DJI Mavic 3 Enterprise with its RC
Pro flying from a staging area over the Kleine-Brogel air base. Its inputs are the lab access
point's capture (DHCP, DNS, TLS 1.3 with the session keys in the pcapng, DJI Cloud API MQTT in
clear), a monitor-mode capture of the aircraft's DroneID beacons and the RC's flight record.
Nothing is written unless --out is given. --example segment audits the embedded lab segment
instead: a DJI controller, a phone, a Hikvision camera and a Dahua NVR and whom they contact,
listed in the report's devices section (see 'droneaudit devices'); with the device policy below
its devices fail.

Policy (droneaudit.yaml; every key also as DRONEAUDIT_POLICY_..., lists comma-separated):
  policy:
    fail_on: [secret, restricted]     # zone sensitivities that must not leave the device
    fail_scopes: [internet, broadcast] # how far such a position may not go (also lab-network, on-device)
    fail_on_broadcast_pilot: true     # pilot/home position broadcast in clear
    fail_on_device: false             # also fail on zone positions held in on-device logs
    fail_on_cleartext_telemetry: false # positions sent over the network unencrypted, in a zone or not
    fail_on_flight_log_upload: true   # a flight record seen in network traffic
    fail_on_track_leak: true          # a point of the flown track (the log files) found in traffic
    destinations:                     # contacts the acceptance test forbids
      deny_owners: [dji, hikvision-cloud, dahua-cloud]   # owner classes (see 'droneaudit destinations --list-owners')
      deny_countries: [CN]            # ISO 3166-1 alpha-2
      deny_hosts: ["*.djiservice.org", "47.88.0.0/16"]
    devices:                          # devices of the lab segment (see 'droneaudit devices')
      deny_classes: [hikvision, dahua] # maker classes no device may belong to (dji, hikvision, dahua, uniview, ...)
      closed_segment: true            # the segment has no outside link: a device that reaches the internet fails

A device that contacted an owner class of deny_owners is also a device-denied finding, naming the
device (MAC, vendor, addresses, names) and the frame of its first such contact.`,
		RunE: runAudit,
	}
	f := c.Flags()
	f.String("zones", "", "zone file (GeoJSON); default: the demo zones when no inputs are given")
	f.String("format", "text", "report format: text or json (without it: from the extension of --out)")
	f.String("out", "", "also write the report to this file (mode 0600); never an input or a file in an input folder")
	f.Bool("force", false, "let --out and --report-dir replace existing files")
	f.StringP("report-dir", "o", "", "write report.json, report.md, report.html, findings.geojson and SHA256SUMS into this folder (mode 0600)")
	f.String("case", "", "case reference printed in every report")
	f.String("examiner", "", "examiner's name printed in every report")
	f.Bool("redact", false, "replace coordinates in the human reports (text, Markdown, HTML) with zone names and distances")
	f.Bool("no-search", false, "turn off the known-value search for zone coordinates in any encoding in the captures' payloads")
	f.Bool("no-track-search", false, "leave the flown track (log files, the captures' telemetry) out of the known-value search")
	f.String("example", "", `audit an embedded example instead of inputs: "flight" (the default without inputs) or "segment"`)
	addKeylogFlag(c)
	addExtractFlag(c)
	return c
}

// exampleFlight names the embedded demo flight (demo.EmbeddedCapture).
const exampleFlight = "flight"

func runAudit(cmd *cobra.Command, args []string) error {
	format := cfg.GetString("format")
	if err := oneOf("format", format, "text", "json"); err != nil {
		return err
	}
	dopts, err := destinationOptions()
	if err != nil {
		return err
	}
	if dopts.Unwrappers, err = tlsLayers(cmd); err != nil {
		return err
	}
	var base *viper.Viper
	if len(args) == 0 {
		// The demo runs under its own policy file unless the configuration gives a policy.
		base = viper.New()
		base.SetConfigType("yaml")
		if err := base.ReadConfig(bytes.NewReader(demo.EmbeddedPolicy)); err != nil {
			return fmt.Errorf("%s: %w", demo.PolicyName, err)
		}
	}
	policy, err := loadPolicy(ruleClasses(dopts.Owners), base)
	if err != nil {
		return err
	}
	var zones *geo.Zones
	var srcs []audit.Source
	zpath := cfg.GetString("zones")
	out := cfg.GetString("out")
	force := cfg.GetBool("force")
	// Everything the run reads is evidence: the inputs, the zone file, the configuration.
	read := append(append([]string(nil), args...), zpath, cfg.ConfigFileUsed())
	if out != "" {
		if err := checkOutputPath(out, force, read, cmd.InOrStdin()); err != nil {
			return err
		}
	}
	dir := cfg.GetString("report-dir")
	if dir != "" {
		if err := checkReportDir(dir, force, read, cmd.InOrStdin()); err != nil {
			return err
		}
	}
	if err := exampleFlag(args, exampleFlight); err != nil {
		return err
	}
	extract, _ := cmd.Flags().GetString("extract")
	if err := checkExtractDir(extract, read); err != nil {
		return err
	}
	if len(args) == 0 {
		if cfg.GetString("example") == exampleSegment {
			slog.Info("auditing the embedded lab segment example", "capture", demo.SegmentName)
			srcs = []audit.Source{audit.BytesSource(demo.SegmentName, demo.EmbeddedSegment)}
		} else {
			slog.Info("no inputs given: auditing the embedded demo session", "policy", demo.PolicyName, "zones", demo.ZonesName)
			for _, in := range demo.Inputs() {
				srcs = append(srcs, audit.BytesSource(in.Name, in.Data))
			}
		}
		if zpath == "" {
			zones, err = geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
			if err != nil {
				return err
			}
			zones.SHA256 = sha256Hex(demo.EmbeddedZones)
		}
	} else {
		ins, _, err := openInputs(cmd, args)
		if err != nil {
			return err
		}
		defer ins.Close()
		srcs = ins.Sources
	}
	if zpath != "" {
		if zones, err = loadZones(zpath); err != nil {
			return usageError("%v", err)
		}
	} else if zones == nil {
		slog.Warn("no --zones given: positions are not matched against sensitive zones; the verdict cannot be PASS")
	}
	labLog, err := readLabLog(args)
	if err != nil {
		return err
	}
	tuneGC(decodeMemLimit)
	bar := startProgress(srcs)
	rep, runErr := audit.Run(cmd.Context(), srcs, audit.Options{Zones: zones, Policy: policy, Progress: bar.Add, Destinations: &dopts, NoSearch: cfg.GetBool("no-search"),
		NoTrackSearch: cfg.GetBool("no-track-search"), Lab: labLog, Extract: extract})
	bar.Finish()
	if rep == nil {
		return runErr
	}
	if runErr != nil {
		// Interrupted: the report of what was read is still written, its verdict says so.
		slog.Error("audit interrupted: the report covers what was read before the signal", "err", runErr)
	}
	// One document for every machine output: --format json prints what report.json holds.
	doc := audit.NewDocument(rep, reportMeta(zones, len(dopts.Owners)))
	var buf bytes.Buffer
	if format == "json" {
		err = doc.WriteJSON(&buf)
	} else {
		err = rep.WriteTextWith(&buf, audit.TextOptions{Location: reportLocation, Case: cfg.GetString("case"),
			Examiner: cfg.GetString("examiner"), Redact: cfg.GetBool("redact")})
	}
	if err != nil {
		return err
	}
	if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
		return err
	}
	if out != "" {
		if err := writeReportFile(out, buf.Bytes(), force); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	}
	if dir != "" {
		if err := writeReportDir(dir, doc, force); err != nil {
			return fmt.Errorf("writing the report folder: %w", err)
		}
	}
	switch {
	case rep.Verdict.ExitCode == exitPolicy:
		return policyFailed
	case rep.Verdict.ExitCode != 0:
		return &exitCodeError{code: exitError}
	}
	return nil
}

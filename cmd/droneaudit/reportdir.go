package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"droneaudit/audit"
	"droneaudit/geo"
)

// reportDirFiles are the files --report-dir writes.
var reportDirFiles = []string{audit.ReportJSONName, audit.ReportMDName, audit.ReportHTMLName, audit.ReportGeoJSONName, audit.ReportSumsName}

// checkReportDir refuses a report folder that is an input or lies in an input folder, or that
// holds one of the report files already (without --force): checked before the audit runs, so a
// long run never ends in a refusal.
func checkReportDir(dir string, force bool, read []string, stdin io.Reader) error {
	fi, _ := os.Stat(dir)
	if fi != nil && !fi.IsDir() {
		return usageError("--report-dir %s is not a folder", dir)
	}
	if err := checkNotInput("--report-dir "+dir, resolvePath(dir), fi, read); err != nil {
		return err
	}
	for _, name := range reportDirFiles {
		if err := checkOutputPath(filepath.Join(dir, name), force, read, stdin); err != nil {
			return err
		}
	}
	return nil
}

// writeReportDir writes the report folder, every file mode 0600 (the folder 0700 when it is
// made), each file whole or not at all.
func writeReportDir(dir string, doc *audit.Document, force bool) error {
	files, err := doc.Files()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeReportFile(filepath.Join(dir, f.Name), f.Data, force); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

// reportMeta gathers what report.json says beside the audit: case, build, configuration.
func reportMeta(zones *geo.Zones, owners int) audit.ReportMeta {
	bi, _ := debug.ReadBuildInfo()
	m := audit.ReportMeta{Case: cfg.GetString("case"), Examiner: cfg.GetString("examiner"), Redact: cfg.GetBool("redact"),
		Commit: buildCommit(bi), OwnerRules: owners, Zones: zones, Location: time.UTC}
	if cfg.GetString("tz") != "" {
		m.Location = reportLocation // the human reports in the zone asked for; UTC otherwise, whatever the machine's
	}
	if p := cfg.ConfigFileUsed(); p != "" {
		m.ConfigFile = p
		if b, err := os.ReadFile(p); err == nil {
			m.ConfigSHA256 = sha256Hex(b)
		}
	}
	return m
}

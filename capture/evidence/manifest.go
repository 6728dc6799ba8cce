package evidence

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// ManifestEntry is one file listed in a SHA256SUMS manifest.
type ManifestEntry struct {
	Name   string // file name relative to the manifest's folder
	SHA256 string // lower-case hex; empty when the file was removed (see Note)
	Note   string // why the file is special (truncated, removed); written as a comment line
}

// notePrefix starts the comment line that carries a file's note.
const notePrefix = "# droneaudit-note "

// maxManifest bounds a manifest read back from disk; a capture of a million rotated files
// would still fit.
const maxManifest = 128 << 20

// FormatManifest renders entries in the format of GNU sha256sum ("<hex>  <name>"), so that
// `sha256sum -c SHA256SUMS` checks the evidence without droneaudit. Notes become comment lines
// ("# droneaudit-note name: note") just before their file, which sha256sum -c skips.
func FormatManifest(entries []ManifestEntry) []byte {
	var b bytes.Buffer
	b.WriteString("# droneaudit capture manifest; check with: sha256sum -c " + ManifestName + "\n")
	for _, e := range entries {
		if e.Note != "" {
			fmt.Fprintf(&b, "%s%s: %s\n", notePrefix, e.Name, oneLine(e.Note))
		}
		if e.SHA256 != "" {
			fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Name)
		}
	}
	return b.Bytes()
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// ParseManifest reads a manifest written by FormatManifest or by sha256sum (text "  " or binary
// " *" separator). Comment lines of the form "# droneaudit-note name: note" attach the note to the entry of that
// name; other comments are ignored. A malformed line is an error naming its line number.
func ParseManifest(b []byte) ([]ManifestEntry, error) {
	if len(b) > maxManifest {
		return nil, fmt.Errorf("manifest of %d bytes exceeds the limit of %d", len(b), maxManifest)
	}
	var out []ManifestEntry
	pending := map[string]int{} // entries opened by a note and awaiting their hash line
	for i, line := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\r")
		if s == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(s, notePrefix); ok {
			if name, note, ok := strings.Cut(rest, ": "); ok && note != "" && validManifestName(name) {
				pending[name] = len(out)
				out = append(out, ManifestEntry{Name: name, Note: note})
			}
			continue
		}
		if strings.HasPrefix(s, "#") {
			continue
		}
		if len(s) < 67 || (s[64:66] != "  " && s[64:66] != " *") {
			return nil, fmt.Errorf("manifest line %d: want \"<64 hex digits>  <file>\"", i+1)
		}
		sum, name := s[:64], s[66:]
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("manifest line %d: %q is not a SHA-256 in hex", i+1, sum)
		}
		if !validManifestName(name) {
			return nil, fmt.Errorf("manifest line %d: file name %q is not a plain name in the folder", i+1, name)
		}
		if j, ok := pending[name]; ok {
			out[j].SHA256 = strings.ToLower(sum)
			delete(pending, name)
			continue
		}
		out = append(out, ManifestEntry{Name: name, SHA256: strings.ToLower(sum)})
	}
	// An entry whose note was never followed by a hash line is a file that was removed.
	return out, nil
}

// validManifestName accepts plain file names only: a manifest must not point outside its folder,
// and ": " is kept for the note lines.
func validManifestName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\\\x00\r\n") && !strings.Contains(n, ": ")
}

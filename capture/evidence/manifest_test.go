package evidence

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestManifestRoundTrip(t *testing.T) {
	in := []ManifestEntry{
		{Name: "capture-00001-20260501T100000Z.pcapng", SHA256: strings.Repeat("0a", 32)},
		{Name: "capture-00002-20260501T100100Z.pcapng", SHA256: strings.Repeat("b1", 32), Note: "truncated to its last whole block (10 bytes) after: no space\nleft"},
		{Name: "capture-00003-20260501T100200Z.pcapng", Note: "removed: the disk filled before its header was written"},
	}
	out, err := ParseManifest(FormatManifest(in))
	if err != nil {
		t.Fatal(err)
	}
	in[1].Note = strings.ReplaceAll(in[1].Note, "\n", " ") // notes are kept on one line
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

// TestManifestSha256sum checks that GNU sha256sum accepts the manifest (comments included) and
// that ParseManifest reads what sha256sum writes, binary-mode marker included.
func TestManifestSha256sum(t *testing.T) {
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum not installed")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pcapng"), []byte("first"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.pcapng"), []byte("second"), 0o600)
	cmd := exec.Command(bin, "-b", "a.pcapng", "b.pcapng")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseManifest(out)
	if err != nil || len(entries) != 2 || entries[0].Name != "a.pcapng" {
		t.Fatalf("parse of sha256sum output: %v %+v", err, entries)
	}
	entries[1].Note = "truncated to its last whole block"
	os.WriteFile(filepath.Join(dir, ManifestName), FormatManifest(entries), 0o600)
	check := exec.Command(bin, "--strict", "-c", ManifestName)
	check.Dir = dir
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c rejects our manifest: %v\n%s", err, out)
	}
}

func TestManifestRejects(t *testing.T) {
	for _, bad := range []string{
		"zz" + strings.Repeat("0", 62) + "  a.pcapng\n",
		strings.Repeat("0", 64) + "  ../etc/passwd\n",
		strings.Repeat("0", 64) + "  \n",
		strings.Repeat("0", 64) + "\tx\n",
		"short  a\n",
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add(FormatManifest([]ManifestEntry{{Name: "a.pcapng", SHA256: strings.Repeat("ab", 32)}, {Name: "b", Note: "removed: x"}}))
	f.Add([]byte(strings.Repeat("0", 64) + " *bin.pcapng\r\n# comment\n"))
	f.Add([]byte("# droneaudit-note : x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseManifest(b)
		if err != nil {
			return
		}
		// What parses must survive a round trip through our own format.
		again, err := ParseManifest(FormatManifest(entries))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("round trip changed %d entries to %d", len(entries), len(again))
		}
		for i := range entries {
			if entries[i].Name != again[i].Name || entries[i].SHA256 != again[i].SHA256 {
				t.Fatalf("entry %d: %+v became %+v", i, entries[i], again[i])
			}
		}
	})
}

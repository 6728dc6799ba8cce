// Package evidencetest reads back the evidence folder an evidence.Writer left behind and fails
// the test on anything a court expert would question, so the writer's own tests and the live
// session tests hold the files to the same checks.
package evidencetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
)

// Packet is one frame read back from an evidence file.
type Packet struct {
	Iface int       // pcapng interface index
	Time  time.Time //
	Data  []byte    // captured bytes, a copy
}

// Verify reads every file of the manifest in dir with the project's reader and checks that its
// hash matches the manifest, its mode is 0600, it reads to its end (also for capinfos, when
// installed), that no capture file is missing from the manifest and that the disk reserve is
// gone. It returns the packets in order with the key log each file carried.
func Verify(t testing.TB, dir string) (pkts []Packet, secretsPerFile [][]byte, entries []evidence.ManifestEntry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	entries, err = evidence.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Name] = true
		if e.SHA256 == "" {
			if _, err := os.Stat(filepath.Join(dir, e.Name)); err == nil {
				t.Errorf("%s is listed as removed but exists", e.Name)
			}
			continue
		}
		got, secrets := readFile(t, dir, e)
		pkts = append(pkts, got...)
		secretsPerFile = append(secretsPerFile, secrets)
	}
	checkNothingElse(t, dir, listed)
	return pkts, secretsPerFile, entries
}

// readFile checks one listed file and returns its packets and key log.
func readFile(t testing.TB, dir string, e evidence.ManifestEntry) (pkts []Packet, secrets []byte) {
	t.Helper()
	p := filepath.Join(dir, e.Name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		t.Errorf("%s: manifest hash %s, file hash %x", e.Name, e.SHA256, sum)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", e.Name, st.Mode().Perm())
	}
	r, err := capture.NewReader(bytes.NewReader(data), p)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	r.OnSecrets = func(s capture.Secret) {
		if s.Type == capture.SecretsTLSKeyLog {
			secrets = append(secrets, s.Data...)
		}
	}
	for {
		pk, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not a valid capture: %v", e.Name, err)
		}
		pkts = append(pkts, Packet{pk.Interface, pk.Time, append([]byte(nil), pk.Data...)})
	}
	capinfosValid(t, p)
	return pkts, secrets
}

// checkNothingElse fails on a capture file the manifest does not list and on a disk reserve
// left behind: either means the writer did not finish cleanly.
func checkNothingElse(t testing.TB, dir string, listed map[string]bool) {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	for _, f := range all {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in the manifest", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, evidence.ReserveName)); err == nil {
		t.Errorf("reserve file left behind")
	}
}

// capinfosValid asks capinfos, when installed, whether the file reads to its end: an
// independent reader, so a mistake shared by our writer and our reader still shows.
func capinfosValid(t testing.TB, path string) {
	t.Helper()
	bin, err := exec.LookPath("capinfos")
	if err != nil {
		return
	}
	out, err := exec.Command(bin, "-c", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "appears to have been cut short") {
		t.Errorf("capinfos rejects %s: %v\n%s", path, err, out)
	}
}

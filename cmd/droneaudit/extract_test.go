package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// --extract on requests and audit: the gzip'd JSON a real HTTPS client posted is written decoded,
// named by its SHA-256, mode 0600; a second run leaves it as it is; a folder inside an input
// folder is refused before anything is read.
func TestExtractFlag(t *testing.T) {
	plain := []byte(`{"aircraft":{"latitude":51.16,"longitude":5.47}}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{KeyLog: &kl},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }),
		func(c *http.Client, base string) error {
			req, _ := http.NewRequest("POST", base+"/v1/osd", bytes.NewReader(gz.Bytes()))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o700)
	capPath, keys := filepath.Join(in, "up.pcap"), filepath.Join(dir, "up.keys")
	os.WriteFile(capPath, wire, 0o600)
	os.WriteFile(keys, kl.Bytes(), 0o600)
	s := sha256.Sum256(plain)
	name := hex.EncodeToString(s[:]) + ".json"

	if code, _, errs := cli(t, "requests", "--extract", filepath.Join(in, "objects"), "--keylog", keys, in); code != exitUsage || !strings.Contains(errs, "input folder") {
		t.Errorf("extract into the input folder: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(in, "objects")); err == nil {
		t.Error("the refused folder was made")
	}
	for _, cmd := range []string{"requests", "audit"} {
		out := filepath.Join(dir, cmd)
		for run := 0; run < 2; run++ {
			code, stdout, errs := cli(t, cmd, "--extract", out, "--keylog", keys, capPath)
			if code != 0 && !(cmd == "audit" && code != exitUsage) {
				t.Fatalf("%s run %d: exit %d: %s", cmd, run, code, errs)
			}
			fi, err := os.Stat(filepath.Join(out, name))
			b, _ := os.ReadFile(filepath.Join(out, name))
			if err != nil || fi.Mode().Perm() != 0o600 || !bytes.Equal(b, plain) {
				ents, _ := os.ReadDir(out)
				t.Fatalf("%s run %d: %s: %v (folder %v)", cmd, run, name, err, ents)
			}
			if cmd == "requests" && !strings.Contains(stdout, "gzip → json") {
				t.Errorf("no decoded-body summary:\n%s", stdout)
			}
		}
	}
}

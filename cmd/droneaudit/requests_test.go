package main

import (
	"encoding/json"
	"strings"
	"testing"

	"droneaudit/internal/corpus"
)

// requests on Wireshark's captures: rows from a key log given with --keylog, and from the
// capture's own Decryption Secrets Blocks with none; the same bytes on every run; a missing key
// log file is a usage error.
func TestRequestsCommand(t *testing.T) {
	pcap, keys := corpus.Path(t, "tls/tls12-chacha20poly1305.pcap"), corpus.Path(t, "tls/tls12-chacha20poly1305.keys")
	code, out, errs := cli(t, "requests", "--format", "json", "--keylog", keys, pcap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Requests []struct {
			ID, Method, URL string
			Status          int
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Requests) != 7 {
		t.Fatalf("%v: %d rows", err, len(doc.Requests))
	}
	if _, again, _ := cli(t, "requests", "--format", "json", "--keylog", keys, pcap); again != out {
		t.Error("two runs differ")
	}
	// Without the key log the sessions are listed in the notes, not guessed.
	_, out, _ = cli(t, "requests", pcap)
	if !strings.Contains(out, "0 requests.") {
		t.Errorf("without keys:\n%s", out)
	}
	_, out, _ = cli(t, "requests", corpus.Path(t, "tls/tls12-dsb.pcapng"))
	if !strings.Contains(out, "https://example.com/") || !strings.Contains(out, "https://example.net/") {
		t.Errorf("keys from the capture's secrets blocks:\n%s", out)
	}
	if code, _, errs := cli(t, "requests", "--keylog", "/nonexistent.keys", pcap); code != exitUsage || !strings.Contains(errs, "nonexistent") {
		t.Errorf("missing key log: exit %d, %s", code, errs)
	}
	if code, _, _ := cli(t, "destinations", "--keylog", keys, pcap); code != 0 {
		t.Errorf("destinations --keylog: exit %d", code)
	}
}

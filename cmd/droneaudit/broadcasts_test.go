package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/internal/corpus"
)

// TestBroadcastsCorpus lists the aircraft of two shared captures as JSON and as text.
func TestBroadcastsCorpus(t *testing.T) {
	dji := corpus.Path(t, "ota/djidroneid_spoofed.pcapng")
	parrot := corpus.Path(t, "ota/parrot_anafi4_spoofed.pcapng")
	code, out, errOut := cli(t, "broadcasts", "--format", "json", dji, parrot)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Stats struct {
			Frames    int `json:"frames"`
			Sightings int `json:"drone_frames"`
		} `json:"stats"`
		Aircraft []struct {
			Serials      []string `json:"serials"`
			Transmitters []string `json:"transmitters"`
			Frames       int      `json:"frames"`
			Duplicates   int      `json:"duplicates"`
			Track        []struct{ Lat, Lon float64 }
			Pilot        []struct {
				Lat    float64 `json:"lat"`
				Lon    float64 `json:"lon"`
				Detail string  `json:"detail"`
			} `json:"pilot"`
		} `json:"aircraft"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Stats.Frames != 1616 || rep.Stats.Sightings != 36 || len(rep.Aircraft) != 2 {
		t.Fatalf("stats %+v, %d aircraft", rep.Stats, len(rep.Aircraft))
	}
	a, p := rep.Aircraft[0], rep.Aircraft[1] // first heard first: the DJI capture is from March 2023
	if strings.Join(a.Serials, ",") != "K6RE0WENAH9P8QAL" || a.Frames != 5 || a.Duplicates != 5 || len(a.Pilot) != 1 || a.Pilot[0].Lat != 56 {
		t.Errorf("DJI aircraft %+v", a)
	}
	if strings.Join(p.Serials, ",") != "1588E040445AC004418" || len(p.Track) != 13 || len(p.Pilot) != 1 ||
		p.Pilot[0].Lat != 47.198656 || p.Pilot[0].Detail != "operator location type live" {
		t.Errorf("Parrot aircraft %+v", p)
	}
	code, out, _ = cli(t, "broadcasts", parrot)
	if code != exitOK || !strings.Contains(out, "PILOT         47.1986560,8.7302205") || !strings.Contains(out, "truncated_message") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
}

func TestBroadcastsUsage(t *testing.T) {
	if code, _, _ := cli(t, "broadcasts"); code != exitUsage {
		t.Errorf("no capture: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := cli(t, "broadcasts", "--format", "xml", "x.pcap"); code != exitUsage {
		t.Errorf("bad format: exit %d, want %d", code, exitUsage)
	}
	code, out, errOut := cli(t, "broadcasts", filepath.Join(t.TempDir(), "missing.pcap"))
	if code != exitError || !strings.Contains(out, "0 aircraft") || !strings.Contains(errOut, "missing.pcap") {
		t.Errorf("missing file: exit %d\n%s\n%s", code, out, errOut)
	}
}

// Every broadcast position in the JSON output carries its evidence: the capture's SHA-256 and
// the byte offset of the frame's record.
func TestBroadcastPositionsCarryEvidence(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(corpus.Dir(t), "ota", "*.pcap*"))
	sums := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sums[p] = sha256Hex(b)
	}
	code, out, errOut := cli(t, append([]string{"broadcasts", "--format", "json"}, paths...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	type pos struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Offset *int64 `json:"offset"`
		Frame  int    `json:"frame"`
	}
	var rep struct {
		Aircraft []struct{ Track, Home, Pilot []pos } `json:"aircraft"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range rep.Aircraft {
		for _, list := range [][]pos{a.Track, a.Home, a.Pilot} {
			for _, p := range list {
				n++
				if p.SHA256 == "" || p.SHA256 != sums[p.File] || p.Offset == nil || *p.Offset <= 0 || p.Frame <= 0 {
					t.Fatalf("position without its evidence: %+v (file hash %s)", p, sums[p.File])
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d broadcast positions checked", n)
	}
}

package requests_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/internal/netfixture"
)

// The generated lab capture (clear HTTP uploads, DJI Cloud API MQTT, TLS sessions whose keys are
// in the pcapng's Decryption Secrets Block): every clear POST, every PUBLISH and every decrypted
// GET is a row, the
// same rows whatever the shard count. The lab's TLS sessions end in opaque records made up by
// the fixture (bulk application data no key opens): those are reported as wrong keys, never
// handed on.
func TestLabCaptureRows(t *testing.T) {
	lab, err := netfixture.NewLab(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcapng, lab.KeyLog)
	exp, err := lab.Generate(w, netfixture.Mix{Packets: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	var first []requests.Row
	for _, shards := range []int{1, 3} {
		res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("lab.pcapng", buf.Bytes())},
			destinations.Options{Unwrappers: []decoders.Unwrapper{tlslayer.New(nil)}, Shards: shards}, requests.Options{})
		if err != nil {
			t.Fatal(err)
		}
		posts, publishes, decrypted := 0, 0, 0
		for _, r := range res.Rows {
			switch {
			case r.Protocol == "http/1.1" && r.Method == "POST" && !r.TLS && exp.HTTPHosts[r.Name] &&
				r.URL == "http://"+r.Name+"/api/v1/geo_fence/noflyzone_params" && r.Status == 200 && r.Request.Size > 0:
				posts++
			case r.Protocol == "mqtt" && r.Method == "PUBLISH" && r.URL == "thing/product/1581F5BKD225D00A0A12/osd" &&
				r.Direction == "client-to-server" && r.Request.Complete && len(r.Request.SHA256) == 64:
				publishes++
			case r.Protocol == "http/1.1" && r.TLS && r.Method == "GET" && exp.TLSSNI[r.Name] && r.URL == "https://"+r.Name+"/api/v1/config" && r.Status == 200:
				decrypted++
			default:
				t.Errorf("row %+v", r)
			}
		}
		if posts == 0 || publishes == 0 || decrypted == 0 {
			t.Errorf("%d shards: %d POST rows, %d PUBLISH rows, %d decrypted GETs", shards, posts, publishes, decrypted)
		}
		for _, n := range res.Notes {
			if strings.HasPrefix(string(n.Code), "tls-") && n.Code != decoders.CodeTLSWrongKeys {
				t.Errorf("note %s: %s", n.Code, n.Message)
			}
		}
		if first == nil {
			first = res.Rows
		} else if len(first) != len(res.Rows) {
			t.Fatalf("%d rows with one shard, %d with three", len(first), len(res.Rows))
		} else {
			for i := range first {
				if first[i].ID != res.Rows[i].ID || first[i].Request.SHA256 != res.Rows[i].Request.SHA256 {
					t.Fatalf("row %d differs with the shard count: %s / %s", i, first[i].ID, res.Rows[i].ID)
				}
			}
		}
	}
}

// Values read from the traffic are escaped in the text output; JSON keeps them exact.
func TestTextEscaped(t *testing.T) {
	res := &requests.Result{Rows: []requests.Row{{ID: "C1#1", Method: "GET\x1b[2J", URL: "http://h/\x1b]0;x\x07", Name: "a\u202eb",
		Request: requests.Body{Size: 0, Complete: true}}}}
	var txt, js bytes.Buffer
	if err := res.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(txt.String(), "\x1b\x07\u202e") {
		t.Errorf("control characters in the text output: %q", txt.String())
	}
	res.WriteJSON(&js)
	if !strings.Contains(js.String(), `GET\u001b[2J`) {
		t.Errorf("JSON does not keep the method: %s", js.String())
	}
}

// WriteJSON streams the rows one at a time and writes the bytes json.Encoder with
// SetIndent("", "  ") writes for the whole Result: with no rows, with an empty listing, and with
// rows and notes holding every kind of field.
func TestWriteJSONAsEncoder(t *testing.T) {
	resp := requests.Body{Size: 3, SHA256: strings.Repeat("ab", 32), ContentType: "text/html", Complete: true, Summary: "<b>&"}
	rows := []requests.Row{
		{ID: "C1#1", Method: "GET\x1b", URL: "https://h/a?b=<c>", Status: 200, TLS: true, Request: requests.Body{Complete: true}, Response: &resp},
		{ID: "C1#2", Method: "POST", URL: "http://h/up", Request: requests.Body{Size: 5, Objects: []requests.Object{{Kind: "json", Size: 5}}}},
	}
	notes := []decoders.Note{{Severity: decoders.Warning, Code: decoders.CodeTLSWrongKeys, Offset: 7, Message: "a \"quoted\" note"}}
	for _, res := range []*requests.Result{{}, {Rows: []requests.Row{}, Notes: []decoders.Note{}}, {Rows: rows[:1]}, {Rows: rows, Notes: notes}} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d rows: got\n%s\nwant\n%s", len(res.Rows), got.Bytes(), want.Bytes())
		}
	}
}

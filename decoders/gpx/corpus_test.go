package gpx

import (
	"os"
	"testing"

	"droneaudit/decoders"
	"droneaudit/internal/corpus"
)

// TestCorpusSniffOthers: the corpus holds no GPX or KML; Sniff must claim none of its files
// (flight records, captures, SRT, CSV and binary logs).
func TestCorpusSniffOthers(t *testing.T) {
	for _, e := range corpus.Files(t, "") {
		if testing.Short() && e.Size > 1<<20 {
			continue // large files only in full runs (corpus README)
		}
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if New().Sniff(data[:min(len(data), decoders.SniffLen)]) {
			t.Errorf("%s: claimed", e.File)
		}
	}
}

package decodertest

import (
	"testing"

	"droneaudit/internal/corpus"
)

// MaxFuzzInput is the largest input the fuzz targets decode. The fuzzer mutates and minimises
// every input it keeps, so one large seed slows the whole run; the real files above this size
// are covered by the corpus tests.
const MaxFuzzInput = 1 << 20

// SkipLarge skips a fuzz input over MaxFuzzInput.
func SkipLarge(t *testing.T, data []byte) {
	t.Helper()
	if len(data) > MaxFuzzInput {
		t.Skipf("input of %d bytes is over the fuzz bound of %d", len(data), MaxFuzzInput)
	}
}

// SeedHead is how much of a corpus file over MaxFuzzInput SeedCorpus adds: the file cut there,
// which every decoder must read as well (cut files are inputs too).
const SeedHead = 64 << 10

// SeedCorpus adds the real-sample corpus files under each folder (relative to the corpus, e.g.
// "srt") as fuzz seeds: whole when at most MaxFuzzInput bytes long, else their first SeedHead
// bytes; keep (nil keeps all) chooses among them by name and content. The corpus lives outside
// the repository (../shared/corpus, or $DRONEAUDIT_CORPUS); without it the target runs on its
// generated seeds alone. Files are read in place at test time, never copied into the repository.
func SeedCorpus(f *testing.F, keep func(name string, data []byte) bool, folders ...string) {
	f.Helper()
	for _, data := range CorpusSeeds(keep, folders...) {
		f.Add(data)
	}
}

// CorpusSeeds returns what SeedCorpus would add, for targets whose seeds are not plain byte
// slices of the file (a stream taken out of a capture, say).
func CorpusSeeds(keep func(name string, data []byte) bool, folders ...string) [][]byte {
	return corpus.Seeds(MaxFuzzInput, SeedHead, keep, folders...)
}

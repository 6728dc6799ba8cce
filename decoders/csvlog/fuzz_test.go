package csvlog

import (
	"strings"
	"testing"

	"droneaudit/decoders/decodertest"
)

func FuzzDecode(f *testing.F) {
	air := writeAirdata(rows(4))
	f.Add(air)
	f.Add(air[:len(air)-30])
	f.Add([]byte("sep=;\nCUSTOM.date [local];CUSTOM.updateTime [local];OSD.latitude;OSD.longitude;OSD.height [ft];HOME.latitude;HOME.longitude\n8/29/2017;3:04:05.12 PM;59,9;10,7;3,2;59,9;10,7\n"))
	f.Add([]byte("\ufefftime\tlat (rad)\tlng (rad)\n1700000000123\t1.04\t0.18\n"))
	f.Add([]byte("datetime,latitude,longitude,message\n2024-01-01T10:00:00Z,10.5,20.5,\"a\nb\"\"c\"\n"))
	// The real exports (the Airdata CSV, the truth CSV beside a flight record): over the fuzz
	// bound, so their heads.
	decodertest.SeedCorpus(f, nil, "csv")
	decodertest.SeedCorpus(f, func(name string, _ []byte) bool { return strings.HasSuffix(name, ".csv") }, "djilog")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodertest.FuzzFile(t, New(), "fuzz.csv", data)
		for _, fx := range s.Fixes {
			if fx.Evidence.Offset < 0 {
				t.Fatalf("fix without an offset: %v", fx)
			}
		}
	})
}

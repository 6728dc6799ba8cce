package gpx

import (
	"testing"

	"droneaudit/decoders/decodertest"
)

func FuzzDecode(f *testing.F) {
	g := writeGPX("1.1", track(3))
	f.Add(g)
	f.Add(g[:len(g)/2])
	f.Add(writeGPX("1.0", track(2)))
	k := writeKML(track(3))
	f.Add(k)
	f.Add(writeKMZ(f, map[string][]byte{"doc.kml": k}, []string{"doc.kml"}))
	// A KMZ without its central directory, read from its local headers.
	mixed, o := writeMixedKMZ(f, writeKML(track(2)))
	f.Add(mixed[:o.dir])
	f.Add(mixed[:o.wpml+40])
	// The corpus holds no GPX, KML or KMZ file: the seeds are all generated.
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><gpx><wpt lat=\"1.5\" lon=\"2.5\"><name>Caf\xe9 home</name></wpt></gpx>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodertest.FuzzFile(t, New(), "fuzz.gpx", data)
		_ = s
	})
}

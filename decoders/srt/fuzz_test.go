package srt

import (
	"testing"

	"droneaudit/decoders/decodertest"
)

func FuzzDecode(f *testing.F) {
	for _, st := range []style{styleOld, styleMavicPro, styleOneLine, styleRTK, styleMavic2, styleAir2, styleMavic3, styleFPV, styleM300, styleMavicAir} {
		data := writeSRT(track(3), st)
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	f.Add(writeSRT(track(4), styleMavicPro, styleMavic3))
	f.Add([]byte("\xef\xbb\xbf1\r\n00:00:00,000 --> 00:00:01,000\r\nGPS(N/A,N/A,3) [latitude : 0.7] [longtitude : 0.03]\r\n"))
	f.Add([]byte("1\n00:00:00,000 --> 00:00:01,000\nGPS(W:3.7,N:40.4,1m) HOME (1,2, 3m) 2020.1.1 1:02:03,123,456\n"))
	decodertest.SeedCorpus(f, nil, "srt")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodertest.FuzzFile(t, New(), "fuzz.srt", data)
		for _, fx := range s.Fixes {
			if fx.Evidence.Offset < 0 {
				t.Fatalf("fix without an offset: %v", fx)
			}
		}
	})
}

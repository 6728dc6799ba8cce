package httpbody_test

import (
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/httpbody"
)

// BenchmarkDecodeContent undoes gzip, br and zstd on a 15 KB JSON body.
func BenchmarkDecodeContent(b *testing.B) {
	for _, c := range []string{"gzip", "br", "zstd"} {
		enc := encode(b, c, jsonBody)
		b.Run(c, func(b *testing.B) {
			b.SetBytes(int64(len(jsonBody)))
			for b.Loop() {
				httpbody.DecodeContent(c, enc, httpbody.Limits{Budget: decoders.NewExpansionBudget(1 << 40)})
			}
		})
	}
}

// BenchmarkFindEncoded searches a 15 KB JSON body that holds no encoded values.
func BenchmarkFindEncoded(b *testing.B) {
	b.SetBytes(int64(len(jsonBody)))
	for b.Loop() {
		httpbody.FindEncoded(jsonBody, httpbody.FindLimits{})
	}
}

package srt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"

	"droneaudit/decoders"
)

// radians decides, once per file, whether the named-field positions are radians written by the
// Mavic Air 2 firmware bug (formats §13, rule from JuanIrache/DJI_SRT_Parser@b6ed7901:index.js):
// every |lat| ≤ π/2 and |lon| ≤ π, and both spans < 0.001. The rule needs the whole file, so the
// first in-range position triggers one extra streaming pass; files far from (0,0) never pay it.
type radians struct {
	in      decoders.Input
	decided bool
	yes     bool
	reason  string
}

// radianSpan is the largest span (in the file's unit) the rule accepts as one flight in radians.
const radianSpan = 0.001

func inRadianRange(lat, lon float64) bool {
	return math.Abs(lat) <= math.Pi/2 && math.Abs(lon) <= math.Pi
}

func (r *radians) isRadians() bool {
	if !r.decided {
		r.decided = true
		r.yes, r.reason = scanRadians(r.in)
	}
	return r.yes
}

// scanRadians reads every named latitude/longitude pair of the file.
func scanRadians(in decoders.Input) (bool, string) {
	br := bufio.NewReaderSize(in.Reader(), maxLine)
	n := 0
	minLat, maxLat := math.Inf(1), math.Inf(-1)
	minLon, maxLon := math.Inf(1), math.Inf(-1)
	var b block
	for {
		raw, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			raw, err = br.ReadSlice('\n')
			raw = nil
		}
		if len(raw) > 0 && bytes.IndexByte(raw, '[') >= 0 {
			b.aircraft = position{}
			parseBrackets(bytes.TrimSpace(raw), &b, 0, 0, raw[len(raw)-1] == '\n')
			p := b.aircraft
			if p.named && p.lat.ok && p.lon.ok && !(p.lat.v == 0 && p.lon.v == 0) {
				if !inRadianRange(p.lat.v, p.lon.v) {
					return false, ""
				}
				n++
				minLat, maxLat = math.Min(minLat, p.lat.v), math.Max(maxLat, p.lat.v)
				minLon, maxLon = math.Min(minLon, p.lon.v), math.Max(maxLon, p.lon.v)
			}
		}
		if err != nil {
			break
		}
	}
	if n == 0 || maxLat-minLat >= radianSpan || maxLon-minLon >= radianSpan {
		return false, ""
	}
	return true, fmt.Sprintf("all %d named positions have |lat| ≤ π/2, |lon| ≤ π and spans < %g (Mavic Air 2 firmware bug); a real flight within 3° of (0,0) would look the same", n, radianSpan)
}

// Package dfgen writes generated ArduPilot DataFlash logs, for scripts/mkbig (-kind dataflash) and
// for tests that need a flight record without the corpus (an upload of one over HTTPS).
package dfgen

import (
	"encoding/binary"
	"io"
	"math"
)

// The layout is that of the generated log of the DataFlash
// decoder's own tests and benchmarks (genLog in decoders/dataflash/fixture_test.go) — FMT, MULT
// and FMTU scaling, a board message, then rounds of one GPS with a 3D fix, four IMU and one POS
// message, 10 Hz — written round after round until the size is reached. A third of the messages
// carry a position: the position-dense worst case.

const (
	dfHead1, dfHead2 = 0xA3, 0x95
	dfFMT            = 128
	dfGPS, dfPOS     = 65, 66
	dfIMU, dfMULT    = 70, 72
	dfFMTU, dfMSG    = 73, 69
)

var dfCharSize = map[byte]int{'b': 1, 'B': 1, 'h': 2, 'H': 2, 'c': 2, 'i': 4, 'I': 4, 'f': 4, 'e': 4, 'L': 4, 'n': 4,
	'd': 8, 'Q': 8, 'N': 16, 'Z': 64}

// dfWriter packs DataFlash messages: values follow the format characters of their type.
type dfWriter struct {
	w    io.Writer
	fmts map[uint8]string
	n    int64 // bytes written
}

func (d *dfWriter) define(typ uint8, name, format, cols string) {
	d.fmts[typ] = format
	n := 3
	for i := 0; i < len(format); i++ {
		n += dfCharSize[format[i]]
	}
	d.write(dfFMT, int(typ), n, name, format, cols)
}

func (d *dfWriter) write(typ uint8, vals ...any) {
	format := d.fmts[typ]
	b := []byte{dfHead1, dfHead2, typ}
	le := binary.LittleEndian
	for i := 0; i < len(format); i++ {
		switch c := format[i]; c {
		case 'b', 'B':
			b = append(b, byte(vals[i].(int)))
		case 'h', 'H', 'c':
			b = le.AppendUint16(b, uint16(vals[i].(int)))
		case 'i', 'I', 'e', 'L':
			b = le.AppendUint32(b, uint32(vals[i].(int)))
		case 'f':
			b = le.AppendUint32(b, math.Float32bits(float32(vals[i].(float64))))
		case 'd':
			b = le.AppendUint64(b, math.Float64bits(vals[i].(float64)))
		case 'Q':
			b = le.AppendUint64(b, uint64(vals[i].(int)))
		case 'n', 'N', 'Z':
			s := make([]byte, dfCharSize[c])
			copy(s, vals[i].(string))
			b = append(b, s...)
		}
	}
	d.w.Write(b)
	d.n += int64(len(b))
}

// BaseLat and BaseLon are where the generated flight circles (1e-7 degrees): its positions lie
// within about 4 km of it.
const BaseLat, BaseLon = 481234567, 115432109

// Write writes a generated DataFlash log of at least size bytes to w and returns its length.
func Write(w io.Writer, size int64) int64 {
	d := &dfWriter{w: w, fmts: map[uint8]string{dfFMT: "BBnNZ"}}
	d.define(dfFMT, "FMT", "BBnNZ", "Type,Length,Name,Format,Columns")
	d.define(dfMULT, "MULT", "Qbd", "TimeUS,Id,Mult")
	d.define(dfFMTU, "FMTU", "QBNN", "TimeUS,FmtType,UnitIds,MultIds")
	d.define(dfGPS, "GPS", "QBBIHBcLLeffffB", "TimeUS,I,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U")
	d.define(dfMSG, "MSG", "QZ", "TimeUS,Message")
	d.define(dfIMU, "IMU", "QffffffIIfBBHH", "TimeUS,GyrX,GyrY,GyrZ,AccX,AccY,AccZ,EG,EA,T,GH,AH,GHz,AHz")
	d.define(dfPOS, "POS", "QLLfff", "TimeUS,Lat,Lng,Alt,RelHomeAlt,RelOriginAlt")
	d.write(dfMULT, 1000, int('G'), 1e-7)
	d.write(dfMULT, 1000, int('B'), 1e-2)
	d.write(dfFMTU, 1000, int(dfGPS), "s#-----DUm-----", "F--C-0BGGB000--")
	d.write(dfMSG, 3000, "ArduCopter V4.5.7 (2a3dc4b7)")
	const baseLat, baseLon, week = BaseLat, BaseLon, 2300
	t := 10_000_000
	for i := 0; d.n < size; i++ {
		t += 100_000
		// a slow spiral around the base point, so that coordinates vary in every digit
		lat := baseLat + int(3e5*math.Sin(float64(i)/5000)) + i%97
		lon := baseLon + int(3e5*math.Cos(float64(i)/5000)) - i%89
		gms := (100_000 + i*100) % (7 * 24 * 3600 * 1000)
		d.write(dfGPS, t, 0, 3, gms, week+(100_000+i*100)/(7*24*3600*1000), 12, 77, lat, lon, 51234+i%5000, 1.5, 90.0, -0.25, 0.0, 1)
		for k := 0; k < 4; k++ {
			d.write(dfIMU, t+k*2500, 0.01, 0.02, 0.03, 0.1, 0.2, -9.8, 0, 0, 40.5, 1, 1, 400, 400)
		}
		d.write(dfPOS, t+50, lat+5, lon+5, 512.5+float64(i%1000)/8, 1.25, 2.5)
	}
	return d.n
}

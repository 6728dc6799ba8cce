package dataflash

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"testing"

	"golang.org/x/crypto/blake2b"

	"droneaudit/decoders"
)

// dfWriter writes DataFlash logs for the tests, from the layout rules of LogStructure.h
// (§6.1–§6.3): every fixture in this package is generated here, never copied from a sample.
type dfWriter struct {
	buf  bytes.Buffer
	fmts map[uint8]string
	n    int // messages written
	// log holds every message written, for exact read-back checks.
	log []written
}

// written is one message as the writer packed it.
type written struct {
	typ  uint8
	vals []any
}

func newDFWriter() *dfWriter {
	w := &dfWriter{fmts: map[uint8]string{}}
	w.defineFMT()
	return w
}

// defineFMT writes the FMT that describes FMT, as every real log starts.
func (w *dfWriter) defineFMT() {
	w.define(typeFMT, "FMT", "BBnNZ", "Type,Length,Name,Format,Columns")
}

func formatLen(format string) int {
	n := 3
	for i := 0; i < len(format); i++ {
		n += int(charSize[format[i]])
	}
	return n
}

// define writes an FMT message for a type.
func (w *dfWriter) define(typ uint8, name, format, cols string) {
	w.fmts[typ] = format
	w.write(typeFMT, typ, uint8(formatLen(format)), name, format, cols)
}

// write packs one message; values follow the type's format characters.
func (w *dfWriter) write(typ uint8, vals ...any) {
	format, ok := w.fmts[typ]
	if !ok {
		panic(fmt.Sprintf("type %d not defined", typ))
	}
	if len(vals) != len(format) {
		panic(fmt.Sprintf("type %d: %d values for format %q", typ, len(vals), format))
	}
	w.log = append(w.log, written{typ, vals})
	w.buf.Write([]byte{head1, head2, typ})
	le := binary.LittleEndian
	var b [8]byte
	for i := 0; i < len(format); i++ {
		v := vals[i]
		switch format[i] {
		case 'b':
			w.buf.WriteByte(byte(int8(toInt(v))))
		case 'B', 'M':
			w.buf.WriteByte(byte(toInt(v)))
		case 'h', 'c':
			le.PutUint16(b[:], uint16(int16(toInt(v))))
			w.buf.Write(b[:2])
		case 'H', 'C':
			le.PutUint16(b[:], uint16(toInt(v)))
			w.buf.Write(b[:2])
		case 'i', 'e', 'L':
			le.PutUint32(b[:], uint32(int32(toInt(v))))
			w.buf.Write(b[:4])
		case 'I', 'E':
			le.PutUint32(b[:], uint32(toInt(v)))
			w.buf.Write(b[:4])
		case 'f':
			le.PutUint32(b[:], math.Float32bits(float32(v.(float64))))
			w.buf.Write(b[:4])
		case 'd':
			le.PutUint64(b[:], math.Float64bits(v.(float64)))
			w.buf.Write(b[:8])
		case 'q', 'Q':
			le.PutUint64(b[:], uint64(toInt(v)))
			w.buf.Write(b[:8])
		case 'n', 'N', 'Z':
			s := make([]byte, charSize[format[i]])
			copy(s, v.(string))
			w.buf.Write(s)
		case 'a':
			w.buf.Write(make([]byte, 64))
		}
	}
	w.n++
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	}
	panic(fmt.Sprintf("not an integer: %T", v))
}

// Type numbers of the generated logs. They deliberately differ from ArduPilot's so that the
// decoder is shown to go by FMT names, never by IDs.
const (
	tPARM = 64
	tGPS  = 65
	tPOS  = 66
	tORGN = 67
	tCMD  = 68
	tMSG  = 69
	tIMU  = 70
	tUNIT = 71
	tMULT = 72
	tFMTU = 73
	tAHR2 = 74
	tCMDf = 75 // old CMD layout with float degrees
	tGPSo = 76 // 3.3-era GPS layout
	tVER  = 77
	tRALY = 78
)

// Formats as in current LogStructure.h (§6.2, §6.6).
const (
	fmtGPS  = "QBBIHBcLLeffffB"
	colsGPS = "TimeUS,I,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U"
	fmtPOS  = "QLLfff"
	colsPOS = "TimeUS,Lat,Lng,Alt,RelHomeAlt,RelOriginAlt"
	fmtIMU  = "QffffffIIfBBHH"
	colsIMU = "TimeUS,GyrX,GyrY,GyrZ,AccX,AccY,AccZ,EG,EA,T,GH,AH,GHz,AHz"
)

// fixture is a generated log and what it should read back as.
type fixture struct {
	data     []byte
	log      []written
	messages int
	gps      int // GPS messages with a 3D fix
}

// Base position of the generated flights (an arbitrary field, not a real site).
const (
	baseLatE7 = 481234567
	baseLonE7 = 115432109
	gpsWeek   = 2300
)

// genLog writes a modern log: FMTU/MULT scaling, GPS, POS, ORGN, CMD mission items, MSG with a
// board UID, a PARM with a serial number, IMU filler. When midFMT is set, the POS FMT is only
// written after the first data messages, as ArduPilot 4.x does.
func genLog(rounds int, midFMT bool) fixture {
	w := newDFWriter()
	w.define(tUNIT, "UNIT", "QbZ", "TimeUS,Id,Label")
	w.define(tMULT, "MULT", "Qbd", "TimeUS,Id,Mult")
	w.define(tFMTU, "FMTU", "QBNN", "TimeUS,FmtType,UnitIds,MultIds")
	w.define(tPARM, "PARM", "QNff", "TimeUS,Name,Value,Default")
	w.define(tGPS, "GPS", fmtGPS, colsGPS)
	w.define(tMSG, "MSG", "QZ", "TimeUS,Message")
	w.define(tORGN, "ORGN", "QBLLe", "TimeUS,Type,Lat,Lng,Alt")
	w.define(tCMD, "CMD", "QHHHffffLLfB", "TimeUS,CTot,CNum,CId,Prm1,Prm2,Prm3,Prm4,Lat,Lng,Alt,Frame")
	w.define(tIMU, "IMU", fmtIMU, colsIMU)
	w.define(tVER, "VER", "QBHBBBBIZH", "TimeUS,BT,BST,Maj,Min,Pat,FWT,GH,FWS,APJ")
	w.define(tRALY, "RALY", "QBBLLh", "TimeUS,Tot,Seq,Lat,Lng,Alt")
	if !midFMT {
		w.define(tPOS, "POS", fmtPOS, colsPOS)
	}
	w.write(tMULT, 1000, int('G'), 1e-7)
	w.write(tMULT, 1000, int('B'), 1e-2)
	w.write(tFMTU, 1000, tGPS, "s#-----DUm-----", "F--C-0BGGB000--")
	w.write(tFMTU, 1000, tORGN, "s#DUm", "F-GGB")
	w.write(tPARM, 2000, "BRD_SERIAL_NUM", 4711.0, 0.0)
	w.write(tMSG, 3000, "ArduCopter V4.5.7 (2a3dc4b7)")
	w.write(tMSG, 3001, "CubeOrange 00300029 3331510B 37313837")
	w.write(tVER, 3002, 3, 0, 4, 5, 7, 255, 0x2a3dc4b7, "ArduCopter V4.5.7 (2a3dc4b7)", 140)
	w.write(tRALY, 3003, 1, 0, baseLatE7+20000, baseLonE7+20000, 30)
	fx := fixture{}
	t := int64(10_000_000)
	for i := 0; i < rounds; i++ {
		t += 100_000
		lat := baseLatE7 + i*37
		lon := baseLonE7 - i*53
		status := 3
		if i < 2 {
			status = 1 // no fix yet: must not become a Fix
		} else {
			fx.gps++
		}
		w.write(tGPS, t, 0, status, 100_000+i*100, gpsWeek, 12, 77, lat, lon, 51234+i, 1.5, 90.0, -0.25, 0.0, 1)
		for k := 0; k < 4; k++ {
			w.write(tIMU, t+int64(k)*2500, 0.01, 0.02, 0.03, 0.1, 0.2, -9.8, 0, 0, 40.5, 1, 1, 400, 400)
		}
		if midFMT && i == 3 {
			w.define(tPOS, "POS", fmtPOS, colsPOS)
		}
		if !midFMT || i >= 3 {
			w.write(tPOS, t+50, lat+5, lon+5, 512.5, 1.25, 2.5)
		}
		if i == 2 {
			w.write(tORGN, t+60, 0, baseLatE7+1, baseLonE7+1, 50000)
			w.write(tORGN, t+61, 1, baseLatE7+2, baseLonE7+2, 50010)
			w.write(tCMD, t+70, 3, 0, 16, 0.0, 0.0, 0.0, 0.0, baseLatE7+2, baseLonE7+2, 500.1, 0)
			w.write(tCMD, t+71, 3, 1, 22, 0.0, 0.0, 0.0, 0.0, 0, 0, 30.0, 3) // take-off: no position
			w.write(tCMD, t+72, 3, 2, 16, 0.0, 0.0, 0.0, 0.0, baseLatE7+9000, baseLonE7+9000, 40.0, 3)
		}
	}
	fx.data = w.buf.Bytes()
	fx.log = w.log
	fx.messages = w.n
	return fx
}

// wrapSigned puts a plain log into the signed, hash-chained container of §6.9: chunk records
// at 4096-byte file boundaries (they fall inside messages), one short span to shift the
// phase, the chain hashed with alg (1 SHA-256, 2 BLAKE2b-256), and the end record.
func wrapSigned(plain []byte, alg byte) []byte {
	newHash := func() hash.Hash {
		if alg == 2 {
			h, _ := blake2b.New256(nil)
			return h
		}
		return sha256.New()
	}
	var out bytes.Buffer
	hdr := make([]byte, signedHeaderLen)
	hdr[0], hdr[1], hdr[2] = 0xA5, 0x01, alg
	binary.LittleEndian.PutUint16(hdr[4:], 0x1234)
	binary.LittleEndian.PutUint16(hdr[6:], 4<<8|5)
	binary.LittleEndian.PutUint32(hdr[8:], 1_700_000_000)
	binary.LittleEndian.PutUint16(hdr[12:], 42)
	h := newHash()
	h.Write(hdr[:16])
	prev := h.Sum(nil)
	copy(hdr[16:48], prev)
	out.Write(hdr)
	rest := plain
	spans := 0
	for len(rest) > 0 {
		start := out.Len()
		n := 4096 - start%4096
		if spans == 2 {
			n = 1000 // a short span: the chain must be walked by consistency, not arithmetic
		}
		if n > len(rest) {
			n = len(rest)
		}
		span := rest[:n]
		rest = rest[n:]
		out.Write(span)
		h := newHash()
		h.Write(span)
		h.Write(prev)
		prev = h.Sum(nil)
		rec := make([]byte, chunkRecordLen)
		copy(rec, chunkMagic)
		binary.LittleEndian.PutUint32(rec[4:], uint32(start))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		copy(rec[12:], prev)
		out.Write(rec)
		spans++
	}
	end := make([]byte, endRecordLen)
	copy(end, endMagic)
	copy(end[4:36], prev)
	end[36] = 64
	out.Write(end)
	return out.Bytes()
}

func input(data []byte) decoders.Input {
	return decoders.Input{Path: "gen.bin", SHA256: "x", Size: int64(len(data)), R: bytes.NewReader(data)}
}
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

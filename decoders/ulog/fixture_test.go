package ulog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"droneaudit/decoders"
)

// ulWriter writes ULog files for the tests from the message layouts of the spec
// (PX4-Autopilot docs/en/dev_log/ulog_file_format.md): every fixture here is generated.
type ulWriter struct {
	buf bytes.Buffer
	// sent holds every D payload (msg_id first) in file order, for exact read-back checks.
	sent [][]byte
}

func newULWriter(version byte, start uint64) *ulWriter {
	w := &ulWriter{}
	w.buf.Write(Magic)
	w.buf.WriteByte(version)
	w.buf.Write(le64(start))
	return w
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func (w *ulWriter) msg(typ byte, body []byte) int {
	at := w.buf.Len()
	w.buf.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(body))))
	w.buf.WriteByte(typ)
	w.buf.Write(body)
	return at
}

func (w *ulWriter) flags(compat, incompat [8]byte, appended [3]uint64) int {
	b := append(append([]byte{}, compat[:]...), incompat[:]...)
	for _, a := range appended {
		b = append(b, le64(a)...)
	}
	return w.msg('B', b)
}

func (w *ulWriter) format(def string) { w.msg('F', []byte(def)) }

// kv builds the key/value body of I, M, P and Q messages.
func kv(typ, key string, val []byte) []byte {
	k := typ + " " + key
	return append(append([]byte{byte(len(k))}, k...), val...)
}

func (w *ulWriter) info(typ, key string, val []byte) { w.msg('I', kv(typ, key, val)) }
func (w *ulWriter) infoStr(key, s string)            { w.info(fmt.Sprintf("char[%d]", len(s)), key, []byte(s)) }
func (w *ulWriter) multi(cont bool, key, s string) {
	c := byte(0)
	if cont {
		c = 1
	}
	w.msg('M', append([]byte{c}, kv(fmt.Sprintf("char[%d]", len(s)), key, []byte(s))...))
}
func (w *ulWriter) paramF(key string, v float32) {
	w.msg('P', kv("float", key, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))))
}
func (w *ulWriter) paramI(key string, v int32) {
	w.msg('P', kv("int32_t", key, binary.LittleEndian.AppendUint32(nil, uint32(v))))
}
func (w *ulWriter) subscribe(multi byte, id uint16, name string) {
	w.msg('A', append([]byte{multi, byte(id), byte(id >> 8)}, name...))
}
func (w *ulWriter) data(id uint16, payload []byte) int {
	b := append([]byte{byte(id), byte(id >> 8)}, payload...)
	w.sent = append(w.sent, b)
	return w.msg('D', b)
}
func (w *ulWriter) logging(level byte, ts uint64, text string) {
	w.msg('L', append(append([]byte{level}, le64(ts)...), text...))
}
func (w *ulWriter) tagged(level byte, tag uint16, ts uint64, text string) {
	w.msg('C', append(append([]byte{level, byte(tag), byte(tag >> 8)}, le64(ts)...), text...))
}
func (w *ulWriter) sync()             { w.msg('S', syncMagic) }
func (w *ulWriter) dropout(ms uint16) { w.msg('O', binary.LittleEndian.AppendUint16(nil, ms)) }
func (w *ulWriter) bytes() []byte     { return w.buf.Bytes() }
func (w *ulWriter) unknown(typ byte)  { w.msg(typ, []byte("future message")) }
func (w *ulWriter) raw(b []byte)      { w.buf.Write(b) }
func (w *ulWriter) len() int          { return w.buf.Len() }

// pack lays out values little-endian without alignment, as ULog structs are.
func pack(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case uint8:
			b = append(b, x)
		case int8:
			b = append(b, byte(x))
		case bool:
			if x {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, x)
		case int16:
			b = binary.LittleEndian.AppendUint16(b, uint16(x))
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, x)
		case int32:
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, x)
		case int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		case float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		case []byte:
			b = append(b, x...)
		default:
			panic(fmt.Sprintf("pack: %T", v))
		}
	}
	return b
}

// Formats of the generated logs: the old (int32 degE7) and new (float64 degrees) GPS schemas,
// the global position, home, a nested setpoint triplet whose element type is defined after its
// user, and a mission item (§7.6).
const (
	defGPSOld  = "vehicle_gps_position:uint64_t timestamp;uint64_t time_utc_usec;int32_t lat;int32_t lon;int32_t alt;float eph;uint8_t fix_type;uint8_t satellites_used;uint8_t[6] _padding0;"
	defGPSNew  = "sensor_gps:uint64_t timestamp;uint64_t time_utc_usec;double latitude_deg;double longitude_deg;double altitude_msl_m;uint8_t fix_type;uint8_t[7] _padding0;"
	defGlobal  = "vehicle_global_position:uint64_t timestamp;double lat;double lon;float alt;bool lat_lon_valid;uint8_t[3] _padding0;"
	defHome    = "home_position:uint64_t timestamp;double lat;double lon;float alt;bool valid_hpos;uint8_t[3] _padding0;"
	defTriplet = "position_setpoint_triplet:uint64_t timestamp;position_setpoint previous;position_setpoint current;position_setpoint next;"
	defSP      = "position_setpoint:uint64_t timestamp;double lat;double lon;float alt;bool valid;uint8_t[3] _padding0;"
	defItem    = "navigator_mission_item:uint64_t timestamp;float latitude;float longitude;float altitude;uint16_t nav_cmd;bool altitude_is_relative;uint8_t[1] _padding0;"
	defIMU     = "sensor_combined:uint64_t timestamp;float[3] gyro_rad;float[3] accelerometer_m_s2;uint32_t gyro_integral_dt;uint8_t[4] _padding0;"
)

const (
	idGPSOld = iota + 1
	idGPSNew
	idGlobal
	idHome
	idTriplet
	idItem
	idIMU
	idIMU1 // a second instance (multi_id 1)
)

const (
	latE7 = 481234567
	lonE7 = 115432109
	// utc0 is the GPS UTC time of the first fix, µs.
	utc0 = 1_700_000_000_000_000
)

// payload of a D message without its trailing padding, as PX4 writes it.
func gpsOld(ts uint64, i int, fix uint8) []byte {
	return pack(ts, uint64(utc0+uint64(i)*200_000), int32(latE7+i*10), int32(lonE7-i*10), int32(500_000+i), float32(0.8), fix, uint8(12))
}

func gpsNew(ts uint64, i int) []byte {
	return pack(ts, uint64(utc0+uint64(i)*200_000), float64(latE7+i*10)/1e7+1e-9, float64(lonE7-i*10)/1e7, 500.25, uint8(3))
}

// genULog writes a complete log.
func genULog(rounds int) []byte {
	data, _ := genULogSent(rounds)
	return data
}

// genULogSent writes a complete log and returns it with its D payloads.
func genULogSent(rounds int) ([]byte, [][]byte) {
	w := newULWriter(1, 1_000_000)
	w.flags([8]byte{}, [8]byte{}, [3]uint64{})
	w.format(defGPSOld)
	w.format(defGPSNew)
	w.format(defGlobal)
	w.format(defHome)
	w.format(defTriplet) // uses position_setpoint before it is defined
	w.format(defSP)
	w.format(defItem)
	w.format(defIMU)
	w.infoStr("sys_name", "PX4")
	w.infoStr("ver_hw", "TESTBOARD_V1")
	w.infoStr("sys_uuid", "0011223344556677")
	w.info("int32_t", "time_ref_utc", pack(int32(3600)))
	w.info("uint32_t", "ver_sw_release", pack(uint32(0x010E0000)))
	w.multi(false, "boot_console_output", "sercon: ok\nPX4GUID: 00aa")
	w.multi(true, "boot_console_output", "bb\nINFO done\n")
	w.paramF("MPC_XY_VEL_MAX", 12.5)
	w.paramI("MAV_SYS_ID", 7)
	w.msg('Q', append([]byte{3}, kv("float", "MPC_XY_VEL_MAX", pack(float32(12)))...))
	w.unknown('Z') // a future definitions message: skipped whole
	w.subscribe(0, idGPSOld, "vehicle_gps_position")
	w.subscribe(0, idGPSNew, "sensor_gps")
	w.subscribe(0, idGlobal, "vehicle_global_position")
	w.subscribe(0, idHome, "home_position")
	w.subscribe(0, idTriplet, "position_setpoint_triplet")
	w.subscribe(0, idItem, "navigator_mission_item")
	w.subscribe(0, idIMU, "sensor_combined")
	w.subscribe(1, idIMU1, "sensor_combined")
	w.logging('6', 1_000_100, "[commander] Ready for takeoff!")
	ts := uint64(2_000_000)
	for i := 0; i < rounds; i++ {
		ts += 200_000
		fix := uint8(3)
		if i == 0 {
			fix = 1 // no fix yet
		}
		w.data(idGPSOld, gpsOld(ts, i, fix))
		w.data(idGPSNew, gpsNew(ts+10, i))
		for k := 0; k < 5; k++ {
			imu := pack(ts+uint64(k)*4000, float32(0.01), float32(0.02), float32(0.03), float32(0.1), float32(0.2), float32(-9.8), uint32(4000))
			w.data(idIMU, imu)
			if k == 0 {
				w.data(idIMU1, append(imu, 0, 0, 0, 0)) // this writer keeps the padding
			}
		}
		w.data(idGlobal, pack(ts+20, float64(latE7+i*10)/1e7, float64(lonE7-i*10)/1e7, float32(480.5), i != 1))
		if i == 1 {
			w.data(idHome, pack(ts+30, 0.0, 0.0, float32(0), false)) // not valid yet
			w.sync()
		}
		if i == 2 {
			w.data(idHome, pack(ts+30, float64(latE7)/1e7, float64(lonE7)/1e7, float32(470), true))
			w.dropout(25)
			sp := func(lat float64, valid bool) []byte {
				return pack(ts, lat, 11.5, float32(30), valid, []byte{0, 0, 0})
			}
			w.data(idTriplet, pack(ts+40, sp(48.1, true), sp(48.2, true), sp(0, false)))
			w.data(idItem, pack(ts+50, float32(48.3), float32(11.6), float32(25), uint16(16), true))
			w.paramF("MPC_XY_VEL_MAX", 10)
			w.tagged('4', 3, ts+60, "[navigator] tagged warning")
		}
	}
	w.logging('3', ts+100, "[logger] stopping")
	return w.bytes(), w.sent
}

func input(data []byte) decoders.Input {
	return decoders.Input{Path: "gen.ulg", SHA256: "x", Size: int64(len(data)), R: bytes.NewReader(data)}
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

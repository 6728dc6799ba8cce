package djilog

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"time"

	"droneaudit/geo"
)

// This file writes flight records from scratch, for every layout the decoder reads, so that the
// tests exercise the decoder on bytes the project generated itself (no corpus bytes are copied),
// and so that the demo session (internal/demo) holds a flight record of its own flight
// (WriteFlight).

// scramble is the inverse of descramble: it returns the payload (seed byte, scrambled content,
// check byte) for content of a record of type typ (formats §5.1 read backwards).
func scramble(first, typ, mv byte, content []byte) []byte {
	k := xorKey(first, typ, mv)
	p := make([]byte, len(content)+2)
	p[0] = first
	for i, c := range content {
		p[1+i] = c ^ keyByte(k, i)
	}
	p[len(p)-1] = (first + typ + mv) ^ keyByte(k, len(content))
	return p
}

// fxRecord is one record to write.
type fxRecord struct {
	typ      byte
	content  []byte
	badCheck bool // write a wrong check byte
}

// fxPicture is one embedded JPEG with its details slot.
type fxPicture struct {
	full, thumb []byte
	lat, lon    float64 // degrees, written as radians into the details
}

// fixture describes a flight record to generate.
type fixture struct {
	version      int
	mv           byte
	v6Scrambled  bool
	recs         []fxRecord
	lat, lon     float64 // details take-off point, degrees
	start        time.Time
	lineCount    int32
	aircraftSN   string
	aircraftName string
	product      byte
	pictures     []fxPicture
	trailer      bool // v7–v11: a type-15 record after the details
	corruptLat   bool // details lat garbage and negative picture lengths
	noMarker     bool // leave out the 12345 marker
	city, region string
	rcSN         string
	flightTimeMs uint32  // 0: 100 ms per record
	takeOffAlt   float32 // decimetres; 0: 123.4
	distanceM    float32 // details: total distance
	maxHeightM   float32 // details: maximum height
}

func newFixture(version int) *fixture {
	fx := &fixture{version: version, lat: 47.1234567, lon: 8.7654321,
		start: time.Date(2021, 9, 6, 2, 23, 47, 611e6, time.UTC), aircraftSN: "FX0123456789AB",
		aircraftName: "fixture bird", product: 76}
	if version <= 7 {
		fx.aircraftSN = fx.aircraftSN[:10] // 10-byte serial slots (formats §3.3, §9.6)
	}
	return fx
}

func (fx *fixture) add(typ byte, content []byte) *fixture {
	fx.recs = append(fx.recs, fxRecord{typ: typ, content: content})
	return fx
}

func (fx *fixture) scrambled() bool {
	return fx.version >= firstScrambled || (fx.version == 6 && fx.v6Scrambled)
}

// record encodes one record in the framing of fx's version.
func (fx *fixture) record(i int, r fxRecord) []byte {
	payload := r.content
	if fx.scrambled() {
		payload = scramble(byte(i*37+11), r.typ, fx.mv, r.content)
		if r.badCheck {
			payload[len(payload)-1] ^= 0x5A
		}
	}
	var b []byte
	b = append(b, r.typ)
	if fx.version >= firstAuxVersion {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(payload)))
	} else {
		b = append(b, byte(len(payload)))
	}
	b = append(b, payload...)
	return append(b, recordEnd)
}

func (fx *fixture) recordBytes() []byte {
	var b []byte
	for i, r := range fx.recs {
		b = append(b, fx.record(i, r)...)
	}
	return b
}

// details writes the details block in the layout parseDetails reads (formats §3.2, §3.3).
func (fx *fixture) details() []byte {
	n := detailsLenV6
	if fx.version >= 12 {
		n = detailsLenV12
	}
	b := make([]byte, n)
	le := binary.LittleEndian
	city := fx.city
	if city == "" {
		city = "Testville"
	}
	copy(b[0:], city)
	copy(b[40:], cmp.Or(fx.region, "TS"))
	le.PutUint32(b[83:], uint32(fx.lineCount))
	le.PutUint32(b[87:], detailsCheck)
	le.PutUint64(b[91:], uint64(fx.start.UnixMilli()))
	le.PutUint64(b[99:], math.Float64bits(fx.lon))
	le.PutUint64(b[107:], math.Float64bits(fx.lat))
	le.PutUint32(b[119:], uint32(len(fx.recs))*100)
	if fx.flightTimeMs != 0 {
		le.PutUint32(b[119:], fx.flightTimeMs)
	}
	le.PutUint32(b[115:], math.Float32bits(fx.distanceM))
	le.PutUint32(b[123:], math.Float32bits(fx.maxHeightM))
	for i, p := range fx.pictures {
		le.PutUint32(b[147+4*i:], uint32(len(p.full)))
		le.PutUint32(b[163+4*i:], uint32(len(p.thumb)))
		le.PutUint64(b[179+8*i:], math.Float64bits(p.lon/radDeg))
		le.PutUint64(b[211+8*i:], math.Float64bits(p.lat/radDeg))
	}
	if fx.corruptLat {
		le.PutUint64(b[107:], math.Float64bits(-9.7e119))
		le.PutUint32(b[147:], 0xFFFFFF00)
	}
	if fx.version <= 5 {
		copy(b[267:277], fx.aircraftSN)
		b[277] = fx.product
		copy(b[278:302], fx.aircraftName)
		return b
	}
	copy(b[251:267], "0123456789abcdef")
	le.PutUint32(b[267:], math.Float32bits(cmp.Or(fx.takeOffAlt, 123.4)))
	b[271] = fx.product
	copy(b[280:312], fx.aircraftName)
	copy(b[312:328], fx.aircraftSN)
	copy(b[328:344], "CAMSN0001")
	copy(b[344:360], cmp.Or(fx.rcSN, "RCSN0001"))
	copy(b[360:376], "BATSN0001")
	b[376] = 2
	copy(b[377:380], []byte{4, 3, 4})
	if n == detailsLenV12 {
		copy(b[400:], "01234567-89ab-cdef-0123-456789abcdef")
	}
	return b
}

func (fx *fixture) images() []byte {
	var b []byte
	for _, p := range fx.pictures {
		b = append(b, p.full...)
	}
	for _, p := range fx.pictures {
		b = append(b, p.thumb...)
	}
	return b
}

func (fx *fixture) marker() []byte {
	if fx.noMarker {
		return nil
	}
	return binary.LittleEndian.AppendUint32(nil, detailsCheck)
}

// bytes lays the file out per version (formats §1 table).
func (fx *fixture) bytes() []byte {
	le := binary.LittleEndian
	recs := fx.recordBytes()
	det := fx.details()
	var out []byte
	switch {
	case fx.version <= 5:
		pre := make([]byte, oldPrefixLen)
		off := oldPrefixLen + len(recs) + len(fx.images())
		le.PutUint64(pre, uint64(off))
		le.PutUint16(pre[8:], detailsLenV6)
		pre[10] = byte(fx.version)
		out = append(append(append(append(out, pre...), recs...), fx.images()...), det...)
	case fx.version <= 11:
		pre := fx.prefix100()
		off := newPrefixLen + len(recs) + len(fx.marker()) + len(fx.images())
		le.PutUint64(pre, uint64(off))
		le.PutUint16(pre[8:], detailsLenV6)
		out = append(append(append(append(append(out, pre...), recs...), fx.marker()...), fx.images()...), det...)
		if fx.trailer {
			out = append(out, fx.record(7, fxRecord{typ: typeFirmware, content: bytes.Repeat([]byte{3}, 68)})...)
		}
	case fx.version == 12:
		pre := fx.prefix100()
		le.PutUint16(pre[8:], detailsLenV12)
		out = append(append(append(append(append(out, pre...), det...), recs...), fx.marker()...), fx.images()...)
	default:
		pre := fx.prefix100()
		le.PutUint16(pre[8:], detailsLenV12)
		info := []byte{0}
		info = le.AppendUint16(info, uint16(len(det)))
		info = append(info, det...)
		info = le.AppendUint16(info, 256)
		info = append(info, bytes.Repeat([]byte{0xA5}, 256)...)
		aux0 := scramble(0x42, 0, fx.mv, info)
		aux := append([]byte{0}, le.AppendUint16(nil, uint16(len(aux0)))...)
		aux = append(aux, aux0...)
		aux = append(aux, 1, 4, 0, 4, 0, 3, 0x77)
		le.PutUint64(pre, uint64(newPrefixLen+len(aux)))
		out = append(append(append(append(append(out, pre...), aux...), recs...), fx.marker()...), fx.images()...)
	}
	return out
}

func (fx *fixture) prefix100() []byte {
	pre := make([]byte, newPrefixLen)
	pre[10] = byte(fx.version)
	pre[12] = fx.mv
	return pre
}

// Record contents, written as the decoder's layouts read them.

func osdContent(n int, latDeg, lonDeg, heightM float64, flyTimeS float64) []byte {
	c := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint64(c[0:], math.Float64bits(lonDeg/radDeg))
	le.PutUint64(c[8:], math.Float64bits(latDeg/radDeg))
	le.PutUint16(c[16:], uint16(int16(math.Round(heightM*10))))
	le.PutUint16(c[18:], 0xFFE9) // xSpeed −2.3 m/s
	c[36] = 12
	le.PutUint16(c[42:], uint16(flyTimeS*10))
	return c
}

func homeContent(latDeg, lonDeg, altM float64) []byte {
	c := make([]byte, 74)
	le := binary.LittleEndian
	le.PutUint64(c[0:], math.Float64bits(lonDeg/radDeg))
	le.PutUint64(c[8:], math.Float64bits(latDeg/radDeg))
	le.PutUint32(c[16:], math.Float32bits(float32(altM*10)))
	return c
}

func homeUnsetContent() []byte {
	c := make([]byte, 74)
	binary.LittleEndian.PutUint64(c[0:], math.Float64bits(homeUnset))
	binary.LittleEndian.PutUint64(c[8:], math.Float64bits(homeUnset))
	return c
}

func appGPSContent(latDeg, lonDeg float64, acc float32) []byte {
	c := make([]byte, 20)
	le := binary.LittleEndian
	le.PutUint64(c[0:], math.Float64bits(latDeg))
	le.PutUint64(c[8:], math.Float64bits(lonDeg))
	le.PutUint32(c[16:], math.Float32bits(acc))
	return c
}

func rcGPSContent(latE7, lonE7 int32) []byte {
	c := make([]byte, 30)
	le := binary.LittleEndian
	le.PutUint32(c[7:], uint32(latE7))
	le.PutUint32(c[11:], uint32(lonE7))
	c[23] = 9
	le.PutUint16(c[28:], 1)
	return c
}

func customContent(t time.Time) []byte { return customShoot(t, false) }

// customShoot writes a CUSTOM record whose cameraShoot byte says a photo is being taken.
func customShoot(t time.Time, shoot bool) []byte {
	c := make([]byte, 18)
	if shoot {
		c[0] = 1
	}
	binary.LittleEndian.PutUint64(c[10:], uint64(t.UnixMilli()))
	return c
}

func keyStorageContent(fp uint16) []byte {
	c := binary.LittleEndian.AppendUint16(nil, fp)
	c = binary.LittleEndian.AppendUint16(c, 256)
	return append(c, bytes.Repeat([]byte{byte(fp)}, 256)...)
}

// flight builds a fixture with n frames of OSD, CUSTOM, and some HOME, APP_GPS and RC_GPS
// records along a short track starting at the take-off point.
func flight(version, n int) *fixture {
	fx := newFixture(version)
	osdLen := 55
	if version <= 5 {
		osdLen = 50
	}
	fx.add(typeRecover, recoverContent(version, fx))
	for i := range n {
		lat, lon := trackPoint(fx, i)
		fx.add(typeOSD, osdContent(osdLen, lat, lon, float64(i%300)/10, float64(i)/10))
		// Photos at frames 7 (cameraShoot held for two frames: one photo) and 20.
		fx.add(typeCustom, customShoot(fx.start.Add(time.Duration(i)*100*time.Millisecond), i == 7 || i == 8 || i == 20))
		if i%10 == 0 {
			fx.add(typeHome, homeContent(fx.lat, fx.lon, 12.5))
			fx.add(typeAppGPS, appGPSContent(fx.lat-0.0001, fx.lon-0.0002, -9.5))
		}
		if i == 5 {
			fx.add(typeRCGPS, rcGPSContent(int32(math.Round((fx.lat+0.001)*1e7)), int32(math.Round((fx.lon+0.001)*1e7))))
		}
		if i%50 == 0 {
			fx.add(3, bytes.Repeat([]byte{byte(i)}, 20)) // a gimbal record, read as skeleton only
		}
	}
	fx.lineCount = int32(n)
	return fx
}

func trackPoint(fx *fixture, i int) (lat, lon float64) {
	return fx.lat + float64(i)*1e-6, fx.lon - float64(i)*2e-6
}

func recoverContent(version int, fx *fixture) []byte {
	s := 16
	if version <= 7 {
		s = 10
	}
	c := make([]byte, 45+4*s+1)
	c[0] = fx.product
	c[1] = 1
	copy(c[2:5], []byte{4, 3, 4})
	copy(c[5:5+s], fx.aircraftSN)
	copy(c[5+s:37+s], fx.aircraftName)
	copy(c[45+s:], "CAMSN0001")
	return c
}

// Flight describes a flight record for WriteFlight.
type Flight struct {
	Version                  int       // file format version, 6 to 12 (7 and later are scrambled)
	Start                    time.Time // take-off, written into the details
	TakeOffLat, TakeOffLon   float64   // degrees; the details' take-off point and the HOME records
	HomeAltitude             float64   // metres
	AircraftSN, AircraftName string
	RCSN                     string // the remote controller's serial
	Product                  byte   // product type code (formats §3.3)
	City, Region             string // the details' place names
	// Track is one OSD frame every 100 ms: the aircraft's position and height above take-off.
	Track []FlightPoint
	// PilotLat, PilotLon, when not both 0, are written as APP_GPS records every second: the
	// position of the phone or controller running the app, that is of the pilot.
	PilotLat, PilotLon float64
}

// FlightPoint is one position of the aircraft.
type FlightPoint struct{ Lat, Lon, Height float64 }

// WriteFlight writes a flight record in the layout Decode reads: a RECOVER record with the
// serials, then per point an OSD and a CUSTOM record (the clock), and every second a HOME record
// and, when the pilot position is given, an APP_GPS record. It is meant for tests and demos:
// the bytes are those a DJI app writes as far as the decoder reads them, not a complete file.
func WriteFlight(f Flight) []byte {
	fx := newFixture(f.Version)
	fx.lat, fx.lon, fx.start, fx.product, fx.city = f.TakeOffLat, f.TakeOffLon, f.Start, f.Product, f.City
	fx.aircraftSN, fx.aircraftName, fx.rcSN, fx.region = f.AircraftSN, f.AircraftName, f.RCSN, f.Region
	fx.flightTimeMs = uint32(len(f.Track)) * 100
	fx.takeOffAlt = float32(f.HomeAltitude * 10)
	if f.Version <= 7 && len(fx.aircraftSN) > 10 {
		fx.aircraftSN = fx.aircraftSN[:10]
	}
	osdLen := 55
	if f.Version <= 5 {
		osdLen = 50
	}
	fx.add(typeRecover, recoverContent(f.Version, fx))
	for i, p := range f.Track {
		fx.maxHeightM = max(fx.maxHeightM, float32(p.Height))
		if i > 0 {
			q := f.Track[i-1]
			fx.distanceM += float32(geo.DistanceM(geo.Fix{Lat: q.Lat, Lon: q.Lon}, geo.Fix{Lat: p.Lat, Lon: p.Lon}))
		}
		fx.add(typeOSD, osdContent(osdLen, p.Lat, p.Lon, p.Height, float64(i)/10))
		fx.add(typeCustom, customContent(f.Start.Add(time.Duration(i)*100*time.Millisecond)))
		if i%10 == 0 {
			fx.add(typeHome, homeContent(f.TakeOffLat, f.TakeOffLon, f.HomeAltitude))
			if f.PilotLat != 0 || f.PilotLon != 0 {
				fx.add(typeAppGPS, appGPSContent(f.PilotLat, f.PilotLon, 4))
			}
		}
	}
	fx.lineCount = int32(len(f.Track))
	return fx.bytes()
}

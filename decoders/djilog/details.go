package djilog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// The details (summary) block: formats §3, from dji-sdk/FlightRecordParsingLib@dc4bb0df
// fr_protocol.h (`DJIFlightRecordDetailDataEndStruct`) and
// lvauvillier/dji-log-parser@88fcfc96:src/layout/details.rs.

const (
	detailsLenV6  = 400 // v≤11
	detailsLenV12 = 436 // v12+: the 400-byte form plus a 36-character UUID
	detailsCheck  = 12345
	imageSlots    = 4
)

// details is the decoded summary block.
type details struct {
	Locality, Region string // place names from the app's reverse geocoding
	LineCount        int32  // ≈ number of OSD records
	CheckSum         int32  // 12345 when the block is whole
	StartMS          int64  // flight start, ms since the Unix epoch, UTC
	Lon, Lat         float64
	TotalDistanceM   float32
	TotalTimeMS      int32
	MaxHeightM       float32
	MaxHSpeed        float32
	MaxVSpeed        float32
	CaptureNum       int32
	VideoTime        int64
	ImageLen         [imageSlots]int32 // full moment pictures
	ThumbLen         [imageSlots]int32 // their thumbnails
	PicLon, PicLat   [imageSlots]float64
	AccountHash      string // 16 characters, DJI's "userAPICenterIDMD5"
	TakeOffAltRaw    float32
	ProductType      int
	AircraftName     string
	AircraftSN       string
	CameraSN         string
	RCSN             string
	BatterySN        string
	AppPlatform      int
	AppVersion       [3]byte
	UUID             string
}

// parseDetails decodes a details block of the given format version. b holds at least 400 bytes.
func parseDetails(b []byte, version int) details {
	var d details
	le := binary.LittleEndian
	d.Locality = placeName(b[0:40])
	d.Region = placeName(b[40:80])
	d.LineCount = int32(le.Uint32(b[83:]))
	d.CheckSum = int32(le.Uint32(b[87:]))
	d.StartMS = int64(le.Uint64(b[91:]))
	d.Lon = math.Float64frombits(le.Uint64(b[99:]))
	d.Lat = math.Float64frombits(le.Uint64(b[107:]))
	d.TotalDistanceM = math.Float32frombits(le.Uint32(b[115:]))
	d.TotalTimeMS = int32(le.Uint32(b[119:]))
	d.MaxHeightM = math.Float32frombits(le.Uint32(b[123:]))
	d.MaxHSpeed = math.Float32frombits(le.Uint32(b[127:]))
	d.MaxVSpeed = math.Float32frombits(le.Uint32(b[131:]))
	d.CaptureNum = int32(le.Uint32(b[135:]))
	d.VideoTime = int64(le.Uint64(b[139:]))
	for i := range imageSlots {
		d.ImageLen[i] = int32(le.Uint32(b[147+4*i:]))
		d.ThumbLen[i] = int32(le.Uint32(b[163+4*i:]))
		d.PicLon[i] = math.Float64frombits(le.Uint64(b[179+8*i:]))
		d.PicLat[i] = math.Float64frombits(le.Uint64(b[211+8*i:]))
	}
	if version <= 5 {
		// The old layout moves the identity fields (formats §3.3).
		d.AircraftSN = cString(b[267:277])
		d.ProductType = int(b[277])
		d.AircraftName = cString(b[278:302])
		d.CameraSN = cString(b[318:328])
		d.RCSN = cString(b[328:338])
		d.BatterySN = cString(b[338:348])
		d.AppPlatform = int(b[348])
		copy(d.AppVersion[:], b[349:352])
		d.TakeOffAltRaw = math.Float32frombits(le.Uint32(b[352:]))
		return d
	}
	d.AccountHash = cString(b[251:267])
	d.TakeOffAltRaw = math.Float32frombits(le.Uint32(b[267:]))
	d.ProductType = int(b[271])
	d.AircraftName = cString(b[280:312])
	d.AircraftSN = cString(b[312:328])
	d.CameraSN = cString(b[328:344])
	d.RCSN = cString(b[344:360])
	d.BatterySN = cString(b[360:376])
	d.AppPlatform = int(b[376])
	copy(d.AppVersion[:], b[377:380])
	if len(b) >= detailsLenV12 {
		d.UUID = cString(b[400:436])
	}
	return d
}

// imagesSum returns Σ of the eight picture lengths, or false when any is negative or beyond
// limit, or the sum is.
func (d *details) imagesSum(limit int64) (int64, bool) {
	var sum int64
	for i := range imageSlots {
		for _, n := range [2]int32{d.ImageLen[i], d.ThumbLen[i]} {
			if n < 0 || int64(n) > limit {
				return 0, false
			}
			sum += int64(n)
		}
	}
	return sum, sum <= limit
}

// earliestStart and the one-day slack bound a plausible start time (formats §3.4: 2014 to now).
var earliestStart = time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)

// validate applies the checks of formats §3.4: the checksum alone is not enough, since the
// corrupt-details corpus file passes it. base bounds the picture lengths (the details offset for
// v≤11, the file size for v12+). It returns the first failed check, or "".
func (d *details) validate(base int64, now time.Time) string {
	if d.CheckSum != detailsCheck {
		return fmt.Sprintf("check field %d, want %d", d.CheckSum, detailsCheck)
	}
	t := d.Start()
	if t.Before(earliestStart) || t.After(now.Add(24*time.Hour)) {
		return fmt.Sprintf("implausible start time %d ms", d.StartMS)
	}
	if !(math.Abs(d.Lat) <= 90 && math.Abs(d.Lon) <= 180) { // also rejects NaN
		return fmt.Sprintf("take-off point out of range (lat %g, lon %g)", d.Lat, d.Lon)
	}
	if _, ok := d.imagesSum(base); !ok {
		return fmt.Sprintf("picture lengths %v/%v do not fit before offset %d", d.ImageLen, d.ThumbLen, base)
	}
	return ""
}

// Start returns the flight start time in UTC.
func (d *details) Start() time.Time { return time.UnixMilli(d.StartMS).UTC() }

// appVersion formats the three version bytes as major.minor.patch.
func (d *details) appVersion() string {
	return fmt.Sprintf("%d.%d.%d", d.AppVersion[0], d.AppVersion[1], d.AppVersion[2])
}

// placeName returns the NUL-separated non-empty strings of a 40-byte slot joined by ", ": the
// v4 files fill 20-byte halves, later ones start at the slot's first byte (formats §3.2).
func placeName(b []byte) string {
	var parts []string
	for _, f := range bytes.Split(b, []byte{0}) {
		if s := strings.TrimSpace(lenient(f)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// cString returns the bytes up to the first NUL as text, decoded leniently: user-set names can
// hold CJK or raw bytes (formats §11).
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(lenient(b))
}

// lenient keeps valid UTF-8 and printable text, and escapes anything else as \xNN so that the
// raw bytes stay visible in reports.
func lenient(b []byte) string {
	if utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

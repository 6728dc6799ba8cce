package audit

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/safetext"
)

// FixRecord is the flat form of a fix in NDJSON output: one JSON object per line, stable field
// names (Zeek-style logs). It defines the line: the NDJSON writer appends by hand the bytes
// encoding/json writes for it, so a field added or moved here must be added or moved in
// ndjsonFixes.Write too (TestNDJSONFixesMatchEncodingJSON compares the two).
type FixRecord struct {
	Lat        float64        `json:"lat"`
	Lon        float64        `json:"lon"`
	AltM       *float64       `json:"alt_m,omitempty"`
	AltRef     string         `json:"alt_ref,omitempty"`
	Time       string         `json:"time,omitempty"`
	Role       geo.Role       `json:"role"`
	PrecisionM float64        `json:"precision_m"`
	Decoder    string         `json:"decoder"`
	Message    string         `json:"message,omitempty"`
	Encoding   string         `json:"encoding,omitempty"`
	Input      string         `json:"input"`
	SHA256     string         `json:"sha256"`
	Locator    string         `json:"locator"`
	Offset     int64          `json:"offset"`
	Channel    geo.Channel    `json:"channel"`
	Network    *geo.Network   `json:"network,omitempty"`
	Broadcast  *geo.Broadcast `json:"broadcast,omitempty"`
	Note       string         `json:"note,omitempty"`
	// Zone and ZoneDistanceM are set with FixOptions.InZone only (fixes --in-zone).
	Zone          string   `json:"zone,omitempty"`
	ZoneDistanceM *float64 `json:"zone_distance_m,omitempty"`
}

// NewFixRecord flattens a fix.
func NewFixRecord(f geo.Fix) FixRecord {
	ev := f.Evidence
	r := FixRecord{Lat: f.Lat, Lon: f.Lon, Role: f.Role, PrecisionM: round(f.PrecisionM, 3), Decoder: ev.Decoder, Message: ev.Message,
		Encoding: ev.Encoding, Input: ev.Input, SHA256: ev.SHA256, Locator: ev.Locator, Offset: ev.Offset, Channel: ev.Channel,
		Network: ev.Network, Broadcast: ev.Broadcast, Note: ev.Note}
	if f.HasAlt {
		a := round(f.AltM, 3)
		r.AltM, r.AltRef = &a, f.AltRef
	}
	if !f.Time.IsZero() {
		r.Time = f.Time.UTC().Format(time.RFC3339Nano)
	}
	return r
}

// FixWriter writes fixes in one of the output formats.
type FixWriter interface {
	Write(*geo.Fix) error
	Close() error
}

// FixFormats are the formats NewFixWriter accepts.
var FixFormats = []string{"text", "ndjson", "csv", "geojson"}

// FixOptions changes what a FixWriter writes.
type FixOptions struct {
	// Zones, when set, are written by the geojson format as features of their own (layer
	// "zones"), and are what InZone matches against.
	Zones *geo.Zones
	// InZone keeps only the positions inside a zone or within their precision of one, and names
	// that zone in each record (NDJSON: "zone" and "zone_distance_m", which no record has
	// without InZone). It needs Zones.
	InZone bool
	// Location is the time zone of UTC times in the text format (--tz); nil is UTC. Machine
	// formats keep UTC.
	Location *time.Location
}

// ZoneMatch names the zone a position was kept for with FixOptions.InZone.
type ZoneMatch struct {
	Name string
	// DistanceM is 0 inside the zone; otherwise the metres to its edge, at most the precision
	// of the position's encoding.
	DistanceM float64
}

// zonedWriter is a format's writer: Write is write(f, nil).
type zonedWriter interface {
	FixWriter
	write(f *geo.Fix, z *ZoneMatch) error
}

// gapWriter is told of a fix InZone left out: a track is broken there rather than drawn across.
type gapWriter interface {
	gap(f *geo.Fix)
}

// NewFixWriter returns a writer of the named format.
func NewFixWriter(format string, w io.Writer) (FixWriter, error) {
	return NewFixWriterWith(format, w, FixOptions{})
}

// NewFixWriterWith returns a writer of the named format with options.
func NewFixWriterWith(format string, w io.Writer, o FixOptions) (FixWriter, error) {
	if o.InZone && o.Zones == nil {
		return nil, fmt.Errorf("positions in a zone need a zone file")
	}
	var zw zonedWriter
	switch format {
	case "text":
		loc := o.Location
		if loc == nil {
			loc = time.UTC
		}
		zw = &textFixes{w: w, loc: loc}
	case "ndjson":
		zw = &ndjsonFixes{w: w, buf: make([]byte, 0, ndjsonBlock+4<<10)}
	case "csv":
		c := &csvFixes{w: csv.NewWriter(w), zoned: o.InZone}
		if err := c.header(); err != nil {
			return nil, err
		}
		zw = c
	case "geojson":
		zw = newGeoJSONFixes(w, o.Zones)
	default:
		return nil, fmt.Errorf("unknown fix format %q", format)
	}
	if o.InZone {
		return &inZoneFixes{w: zw, zones: o.Zones}, nil
	}
	return zw, nil
}

// inZoneFixes passes on the fixes that lie in a zone, each with the zone it lies in.
type inZoneFixes struct {
	w     zonedWriter
	zones *geo.Zones
}

func (z *inZoneFixes) Write(f *geo.Fix) error {
	m, ok := MatchZone(z.zones, *f)
	if !ok {
		if g, ok := z.w.(gapWriter); ok {
			g.gap(f)
		}
		return nil
	}
	return z.w.write(f, &m)
}

func (z *inZoneFixes) Close() error { return z.w.Close() }

// MatchZone returns the zone a fix lies in: the first zone of the file that holds it, or, when it
// lies in none but within its precision of some, the nearest of those (the first of equals).
func MatchZone(zs *geo.Zones, f geo.Fix) (ZoneMatch, bool) {
	hits := zs.Match(f)
	best := -1
	for i, h := range hits {
		if h.Inside {
			best = i
			break
		}
		if best < 0 || h.DistanceM < hits[best].DistanceM {
			best = i
		}
	}
	if best < 0 {
		return ZoneMatch{}, false
	}
	h := hits[best]
	d := 0.0
	if !h.Inside {
		d = round(h.DistanceM, 2)
	}
	return ZoneMatch{Name: h.Zone.Name, DistanceM: d}, true
}

// timeRFC3339 writes a fix's time for machine formats: RFC 3339 in UTC, or, for a device's
// clock in an unknown zone, the wall clock as written without an offset (DeviceLocalLayout).
func timeRFC3339(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case decoders.IsDeviceClock(t):
		return t.Format(DeviceLocalLayout)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// textFixes writes one line per fix for a person: every text that comes from an input (file
// names, messages, locators, notes, zone names) goes through safetext.String, so that no
// control or bidirectional character reaches the terminal.
type textFixes struct {
	w   io.Writer
	loc *time.Location
}

func (t *textFixes) Write(f *geo.Fix) error { return t.write(f, nil) }

func (t *textFixes) write(f *geo.Fix, z *ZoneMatch) error {
	ts := "-"
	switch {
	case f.Time.IsZero():
	case decoders.IsDeviceClock(f.Time):
		ts = f.Time.Format(DeviceLocalLayout) + " device-local (zone unknown)"
	default:
		ts = f.Time.In(t.loc).Format(time.RFC3339Nano)
	}
	alt := ""
	if f.HasAlt {
		ref := f.AltRef
		if ref == "" {
			ref = "reference unknown"
		}
		alt = fmt.Sprintf(" alt %.1f m %s", f.AltM, safetext.String(ref))
	}
	ev := f.Evidence
	s := safetext.String
	line := fmt.Sprintf("%s %.7f,%.7f%s %s [%s %s %s] %s %s", ts, f.Lat, f.Lon, alt, s(string(f.Role)), s(ev.Decoder), s(ev.Message),
		s(ev.Locator), s(string(ev.Channel)), s(ev.Input))
	if z != nil {
		if z.DistanceM > 0 {
			line += fmt.Sprintf(" zone \"%s\" (%.2f m outside, within precision)", s(z.Name), z.DistanceM)
		} else {
			line += fmt.Sprintf(" zone \"%s\"", s(z.Name))
		}
	}
	if ev.Note != "" {
		line += " note: " + s(ev.Note)
	}
	_, err := io.WriteString(t.w, line+"\n")
	return err
}

func (t *textFixes) Close() error { return nil }

// csvTimeLayout is how CSV cells hold a time: what spreadsheets (LibreOffice, Excel) read as a
// date and time, which RFC 3339 with nanoseconds and Z is not. Milliseconds, truncated.
const csvTimeLayout = "2006-01-02 15:04:05.000"

// csvHeader: time_utc is a UTC instant in csvTimeLayout; time_device_local is a device's clock in
// an unknown zone, as written, in the same layout (one of the two is empty); time_rfc3339 is the
// time as the other formats write it; time_ref says which (utc, device-local).
var csvHeader = []string{"time_utc", "time_device_local", "time_rfc3339", "time_ref", "lat", "lon", "alt_m", "alt_ref", "role", "precision_m",
	"decoder", "message", "encoding", "channel", "destination", "input", "sha256", "locator", "offset", "note"}

// csvZoneHeader is added with FixOptions.InZone.
var csvZoneHeader = []string{"zone", "zone_distance_m"}

type csvFixes struct {
	w     *csv.Writer
	zoned bool
}

func (c *csvFixes) header() error {
	if c.zoned {
		return c.w.Write(append(append([]string(nil), csvHeader...), csvZoneHeader...))
	}
	return c.w.Write(csvHeader)
}

func (c *csvFixes) Write(f *geo.Fix) error { return c.write(f, nil) }

func (c *csvFixes) write(f *geo.Fix, z *ZoneMatch) error {
	r := NewFixRecord(*f)
	alt := ""
	if r.AltM != nil {
		alt = strconv.FormatFloat(*r.AltM, 'f', -1, 64)
	}
	var utc, local string
	switch {
	case f.Time.IsZero():
	case decoders.IsDeviceClock(f.Time):
		local = f.Time.Format(csvTimeLayout)
	default:
		utc = f.Time.UTC().Format(csvTimeLayout)
	}
	rec := []string{utc, local, timeRFC3339(f.Time), decoders.TimeRef(f.Time), strconv.FormatFloat(r.Lat, 'f', -1, 64),
		strconv.FormatFloat(r.Lon, 'f', -1, 64), alt, r.AltRef, string(r.Role), strconv.FormatFloat(r.PrecisionM, 'f', -1, 64), r.Decoder,
		r.Message, r.Encoding, string(r.Channel), csvDestination(f.Evidence), r.Input, r.SHA256, r.Locator, strconv.FormatInt(r.Offset, 10), r.Note}
	if c.zoned {
		if z != nil {
			rec = append(rec, z.Name, strconv.FormatFloat(z.DistanceM, 'f', -1, 64))
		} else {
			rec = append(rec, "", "")
		}
	}
	return c.w.Write(rec)
}

func (c *csvFixes) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// csvDestination is the other party of a fix, prefixed with its direction on a network.
func csvDestination(ev geo.Evidence) string {
	d, dir := destination(ev)
	if dir != "" {
		return dir + " " + d
	}
	return d
}

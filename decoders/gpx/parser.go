package gpx

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// geomKind is the KML geometry being read.
type geomKind int

const (
	geomNone geomKind = iota
	geomPoint
	geomLine
	geomRing
	geomTrack
)

// point is a GPX trkpt/rtept/wpt being read.
type point struct {
	kind     string
	lat, lon num
	ele      num
	t        time.Time
	name     string
	line     int
	off      int64
}

// pending is a KML Point whose role waits for its Placemark's name.
type pending struct {
	lat, lon, alt num
	hasAlt        bool
	altRef        string
	line          int
	off           int64
}

// maxPending bounds the Points of one Placemark held until its end; more are emitted at once.
const maxPending = 1024

// maxWhens bounds the gx:Track timestamps held until their coordinates arrive.
const maxWhens = 1 << 20

// maxText bounds the text kept from a name, time, ele, when, coord or altitudeMode element.
const maxText = 1024

// parser reads one XML document (a file, or one KMZ entry).
type parser struct {
	in    decoders.Input
	sink  decoders.Sink
	entry string // KMZ entry name; "" for a plain file
	base  int64  // offset of the document in the input, or -1 when it is compressed
	// entryOff is the offset of a compressed document's zip entry in the input: where notes
	// about the entry point, its bytes having no offset of their own.
	entryOff int64
	ex       *exposure

	br    *budgetReader
	depth int
	line  int   // line of the current token's start
	off   int64 // offset of the current token's start in the document

	capturing bool
	text      []byte

	pt    *point
	ptBuf point

	// open holds the start offset of every open element, innermost last.
	open []int64
	// failed: the document ended in an error note.
	failed bool

	inPM     bool
	pmOff    int64
	pmName   string
	pmTime   time.Time
	pmPoints []pending
	geom     geomKind
	altMode  string
	inCoords bool
	carry    []byte
	whens    []time.Time
	coordN   int
	rootSeen bool
	// once notes the first point that is not a position; the exposure counts the rest.
	once decoders.NoteLimiter
}

func newParser(in decoders.Input, sink decoders.Sink, entry string, base int64, ex *exposure) *parser {
	return &parser{in: in, sink: sink, entry: entry, base: base, ex: ex, once: decoders.NoteLimiter{Sink: sink, Max: 1}}
}

// where names a position in the document for notes and evidence.
func (p *parser) where(line int) string {
	if p.entry != "" {
		return p.entry + " line " + strconv.Itoa(line)
	}
	return "line " + strconv.Itoa(line)
}

func (p *parser) offset(docOff int64) int64 {
	if p.base < 0 {
		return -1
	}
	return p.base + docOff
}

// run reads tokens until the end of the document or the first error, which becomes a note: the
// positions read before it stand.
func (p *parser) run(ctx context.Context, r io.Reader) error {
	p.br = newBudgetReader(r)
	d := xml.NewDecoder(p.br)
	d.CharsetReader = charsetReader
	// KML descriptions carry HTML; &nbsp; and friends must not end the parse.
	d.Entity = xml.HTMLEntity
	for n := 0; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p.line, _ = d.InputPos()
		p.off = d.InputOffset()
		p.br.reset()
		tok, err := d.Token()
		if err == io.EOF {
			switch {
			case p.depth > 0:
				p.fail(errors.New("document ends inside an element"), d, decoders.CodeTruncated, p.cutRecord(false))
			case !p.rootSeen:
				p.fail(errors.New("document ends before its root element"), d, decoders.CodeTruncated, p.cutRecord(false))
			}
			return nil
		}
		if err != nil {
			code := decoders.CodeBadXML
			var se *xml.SyntaxError
			switch {
			case errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF") || errors.Is(err, io.ErrUnexpectedEOF):
				code = decoders.CodeTruncated
			case errors.Is(err, errEntryTooLarge) || errors.Is(err, errTokenTooLarge) || errors.Is(err, errTooManyAttrs) ||
				errors.Is(err, errExpansionRatio) || errors.Is(err, errExpansionBudget):
				code = decoders.CodeTooLarge
			case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrAlgorithm):
				code = decoders.CodeBadZip
			}
			at := p.offset(d.InputOffset())
			if code == decoders.CodeTruncated {
				// encoding/xml reports the end of the input between two tokens inside an open
				// element as a syntax error too: mid-token only if bytes of a token were read.
				at = p.cutRecord(d.InputOffset() > p.off)
			}
			p.fail(err, d, code, at)
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.depth++
			if p.depth > maxDepth {
				p.fail(fmt.Errorf("elements nest deeper than %d", maxDepth), d, decoders.CodeBadXML, p.offset(d.InputOffset()))
				return nil
			}
			p.open = append(p.open, p.off)
			p.rootSeen = true
			p.start(t)
		case xml.EndElement:
			p.end(t)
			p.depth--
			if len(p.open) > 0 {
				p.open = p.open[:len(p.open)-1]
			}
		case xml.CharData:
			p.chars(t)
		}
	}
}

// cutRecord returns the offset in the input of the record the document ends in: the open GPX
// point or KML Placemark, else the token the end cut (midToken) or the innermost open element.
// For a compressed KMZ entry it is the entry's offset.
func (p *parser) cutRecord(midToken bool) int64 {
	if p.base < 0 {
		return p.entryOff
	}
	switch {
	case p.pt != nil:
		return p.offset(p.pt.off)
	case p.inPM:
		return p.offset(p.pmOff)
	case !midToken && len(p.open) > 0:
		return p.offset(p.open[len(p.open)-1])
	}
	return p.offset(p.off)
}

// fail reports the error that ended the document as a note at offset at (for a compressed KMZ
// entry, always the entry's offset).
func (p *parser) fail(err error, d *xml.Decoder, code decoders.Code, at int64) {
	p.failed = true
	if p.base < 0 {
		at = p.entryOff
	}
	line, _ := d.InputPos()
	off := d.InputOffset()
	where := fmt.Sprintf("byte %d", p.offset(off))
	if p.base < 0 {
		where = fmt.Sprintf("byte %d of %s (the entry at byte %d)", off, p.entry, p.entryOff)
	}
	what := ""
	if code == decoders.CodeTruncated && p.base >= 0 {
		what = fmt.Sprintf(" inside the record that starts at byte %d;", at)
	}
	p.sink.Note(decoders.Note{Severity: decoders.Error, Code: code, Locator: p.where(line), Offset: at,
		Message: fmt.Sprintf("%s: XML stops at %s (line %d): %v;%s %d positions before it were read", p.in.Path, where, line, err, what, p.ex.positions)})
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (p *parser) capture() {
	p.capturing = true
	p.text = p.text[:0]
}

func (p *parser) captured() string {
	p.capturing = false
	return strings.TrimSpace(string(p.text))
}

func (p *parser) start(t xml.StartElement) {
	switch t.Name.Local {
	case "gpx":
		p.ex.format = "GPX " + attr(t, "version")
		if c := attr(t, "creator"); c != "" {
			p.ex.creator = c
		}
	case "kml":
		p.ex.format = "KML"
	case "trkpt", "rtept", "wpt":
		p.ptBuf = point{kind: t.Name.Local, line: p.line, off: p.off,
			lat: parseNum([]byte(attr(t, "lat"))), lon: parseNum([]byte(attr(t, "lon")))}
		p.pt = &p.ptBuf
	case "ele", "time", "name", "when", "coord", "altitudeMode":
		p.capture()
	case "Placemark":
		p.inPM, p.pmOff, p.pmName, p.pmTime, p.pmPoints = true, p.off, "", time.Time{}, p.pmPoints[:0]
		p.ex.placemarks++
	case "Point":
		p.geom = geomPoint
	case "LineString":
		p.geom = geomLine
	case "LinearRing":
		p.geom = geomRing
	case "Track":
		p.geom, p.whens, p.coordN = geomTrack, p.whens[:0], 0
	case "coordinates":
		p.inCoords, p.carry = true, p.carry[:0]
	}
}

func (p *parser) end(t xml.EndElement) {
	switch t.Name.Local {
	case "trkpt", "rtept", "wpt":
		if p.pt != nil {
			p.emitGPX(p.pt)
			p.pt = nil
		}
	case "ele":
		if s := p.captured(); p.pt != nil {
			p.pt.ele = parseNum([]byte(s))
		}
	case "time":
		if s := p.captured(); p.pt != nil {
			p.pt.t = parseTime(s)
		}
	case "name":
		s := p.captured()
		switch {
		case p.pt != nil:
			p.pt.name = s
		case p.inPM && p.geom == geomNone:
			p.pmName = s
		}
	case "when":
		s := p.captured()
		switch {
		case p.geom == geomTrack:
			if len(p.whens) < maxWhens {
				p.whens = append(p.whens, parseTime(s))
			}
		case p.inPM:
			p.pmTime = parseTime(s)
		}
	case "coord":
		s := p.captured()
		if p.geom == geomTrack {
			p.trackCoord(s)
		}
	case "altitudeMode":
		p.altMode = p.captured()
	case "coordinates":
		if len(p.carry) > 0 {
			p.tuple(p.carry, p.line, p.off)
			p.carry = p.carry[:0]
		}
		p.inCoords = false
	case "Point", "LineString", "LinearRing", "Track":
		p.geom, p.altMode = geomNone, ""
	case "Placemark":
		role := roleByName(p.pmName, geo.RoleWaypoint)
		for _, q := range p.pmPoints {
			p.altMode = q.altRef // the Point's altitudeMode, closed before the Placemark
			p.emitKML(role, q.lat, q.lon, q.alt, q.hasAlt, p.pmTime, "Placemark Point", q.line, q.off)
		}
		p.altMode = ""
		p.pmPoints = p.pmPoints[:0]
		if p.pmName != "" {
			p.ex.name(p.pmName)
		}
		p.inPM = false
	}
}

func (p *parser) chars(t xml.CharData) {
	if p.capturing {
		if room := maxText - len(p.text); room > 0 {
			p.text = append(p.text, t[:min(len(t), room)]...)
		}
		return
	}
	if !p.inCoords {
		return
	}
	// KML coordinates: tuples "lon,lat[,alt]" separated by whitespace (OGC 07-147r2 §16.9.1).
	// A tuple split across two text tokens (a comment between them) is carried over.
	line, off := p.line, p.off
	data := []byte(t)
	if len(p.carry) > 0 {
		i := indexSpace(data)
		if i < 0 {
			if len(p.carry)+len(data) <= 256 {
				p.carry = append(p.carry, data...)
			}
			return
		}
		if len(p.carry)+i <= 256 {
			p.tuple(append(p.carry, data[:i]...), line, off)
		}
		p.carry = p.carry[:0]
		line += bytes.Count(data[:i], []byte("\n"))
		off += int64(i)
		data = data[i:]
	}
	for len(data) > 0 {
		j := 0
		for j < len(data) && isSpace(data[j]) {
			if data[j] == '\n' {
				line++
			}
			j++
		}
		data, off = data[j:], off+int64(j)
		if len(data) == 0 {
			return
		}
		k := indexSpace(data)
		if k < 0 {
			if len(data) <= 256 {
				p.carry = append(p.carry[:0], data...)
			}
			return
		}
		p.tuple(data[:k], line, off)
		data, off = data[k:], off+int64(k)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func indexSpace(b []byte) int {
	for i, c := range b {
		if isSpace(c) {
			return i
		}
	}
	return -1
}

// tuple handles one "lon,lat[,alt]" of a coordinates element.
func (p *parser) tuple(b []byte, line int, off int64) {
	var f [3][]byte
	n := 0
	for n < 3 {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			f[n] = b
			n++
			break
		}
		f[n] = b[:i]
		b = b[i+1:]
		n++
	}
	if n < 2 {
		p.ex.bad++
		return
	}
	lon, lat := parseNum(f[0]), parseNum(f[1])
	var alt num
	if n == 3 {
		alt = parseNum(f[2])
	}
	hasAlt := alt.ok && p.altRef() != ""
	switch p.geom {
	case geomPoint:
		if p.inPM && len(p.pmPoints) < maxPending {
			p.pmPoints = append(p.pmPoints, pending{lat: lat, lon: lon, alt: alt, hasAlt: hasAlt, altRef: p.altRef(), line: line, off: off})
			return
		}
		p.emitKML(roleByName(p.pmName, geo.RoleWaypoint), lat, lon, alt, hasAlt, p.pmTime, "Placemark Point", line, off)
	case geomLine:
		p.emitKML(geo.RoleAircraft, lat, lon, alt, hasAlt, time.Time{}, "LineString", line, off)
	case geomRing:
		// A polygon's corners: a planned mapping area or a zone, not a flown position.
		p.emitKML(geo.RoleWaypoint, lat, lon, alt, hasAlt, time.Time{}, "Polygon vertex", line, off)
	default:
		p.ex.bad++
	}
}

// trackCoord handles one gx:coord "lon lat alt", paired in order with the track's when elements
// (Google KML reference, gx:Track).
func (p *parser) trackCoord(s string) {
	fs := strings.Fields(s)
	if len(fs) < 2 {
		p.ex.bad++
		return
	}
	lon, lat := parseNum([]byte(fs[0])), parseNum([]byte(fs[1]))
	var alt num
	if len(fs) >= 3 {
		alt = parseNum([]byte(fs[2]))
	}
	var t time.Time
	if p.coordN < len(p.whens) {
		t = p.whens[p.coordN]
	}
	p.coordN++
	p.emitKML(geo.RoleAircraft, lat, lon, alt, alt.ok && p.altRef() != "", t, "gx:Track", p.line, p.off)
}

// altRef maps the KML altitudeMode to the vocabulary; clampToGround (the default) means the
// altitude is ignored by every KML reader, so it is not reported.
func (p *parser) altRef() string {
	switch p.altMode {
	case "absolute", "msl":
		return "msl"
	case "relativeToGround", "ground":
		return "ground"
	}
	return ""
}

func (p *parser) emitGPX(pt *point) {
	role := geo.RoleAircraft
	switch pt.kind {
	case "rtept":
		role = geo.RoleWaypoint
	case "wpt":
		role = roleByName(pt.name, geo.RoleWaypoint)
	}
	f := geo.Fix{Lat: pt.lat.v, Lon: pt.lon.v, Role: role, Time: pt.t}
	if pt.ele.ok {
		// GPX 1.1: ele is the elevation in metres (above mean sea level).
		f.HasAlt, f.AltM, f.AltRef = true, pt.ele.v, "msl"
	}
	if pt.name != "" && pt.kind != "trkpt" {
		p.ex.name(pt.name)
	}
	p.emit(f, pt.lat, pt.lon, pt.kind, "GPX lat/lon attributes, decimal degrees", pt.line, pt.off)
}

func (p *parser) emitKML(role geo.Role, lat, lon, alt num, hasAlt bool, t time.Time, msg string, line int, off int64) {
	f := geo.Fix{Lat: lat.v, Lon: lon.v, Role: role, Time: t}
	if hasAlt {
		f.HasAlt, f.AltM, f.AltRef = true, alt.v, p.altRef()
	}
	p.emit(f, lat, lon, msg, "KML coordinates lon,lat[,alt], decimal degrees", line, off)
}

func (p *parser) emit(f geo.Fix, lat, lon num, msg, enc string, line int, off int64) {
	if !lat.ok || !lon.ok || !f.Valid() {
		if lat.ok && lon.ok && lat.v == 0 && lon.v == 0 {
			p.ex.noFix++
		} else {
			p.ex.bad++
			if p.once.Allow(decoders.CodeBadValue) {
				p.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadValue, Locator: p.where(line), Offset: p.offset(off),
					Message: fmt.Sprintf("%s: %s at %s is not a WGS84 position; skipped (later ones are counted only)", p.in.Path, msg, p.where(line))})
			}
		}
		return
	}
	f.PrecisionM = geo.PrecisionFromDecimals(min(lat.dec, lon.dec))
	f.Evidence = p.in.Evidence("gpx", p.where(line), p.offset(off), geo.ChannelOnDevice)
	f.Evidence.Message = msg
	f.Evidence.Encoding = enc
	p.ex.fix(&f)
	p.sink.Fix(f)
}

// roleByName reads what a waypoint or placemark name says it is: DJI and flight-log exports
// name the home and take-off points so.
func roleByName(name string, def geo.Role) geo.Role {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "home"):
		return geo.RoleHome
	case strings.Contains(n, "takeoff") || strings.Contains(n, "take-off") || strings.Contains(n, "take off") || strings.Contains(n, "launch"):
		return geo.RoleTakeoff
	case strings.Contains(n, "pilot") || strings.Contains(n, "operator"):
		return geo.RolePilot
	}
	return def
}

// num is a parsed decimal with its count of printed decimals.
type num struct {
	v   float64
	dec int
	ok  bool
}

// parseNum reads a plain decimal with an optional exponent around spaces.
func parseNum(b []byte) num {
	v, dec, ok := geo.ParseDecimal(bytes.TrimSpace(b), geo.DecimalExponent)
	return num{v: v, dec: dec, ok: ok}
}

// parseTime reads xsd:dateTime as GPX and KML write it (RFC 3339, or without a zone, or a date).
func parseTime(s string) time.Time {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

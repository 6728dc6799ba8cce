package csvlog

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// posCols are the columns of one position group (the aircraft, the home point, the pilot…).
type posCols struct {
	group              string
	role               geo.Role
	lat, lon           int
	latScale, lonScale float64
	alt                int
	altScale           float64
	altRef             string
	altRank            int
	altName            string
	// last position emitted: home, take-off, pilot and controller rows repeat one value for a
	// whole flight, so only changes become fixes (the aircraft track keeps every row).
	last  [2]float64
	have  bool
	count int64
	first *geo.Fix
}

// layout is what the header says about the columns.
type layout struct {
	ncols     int
	pos       []*posCols
	posNames  []string
	timeCols  []int
	timeZones []string // per time column, what its name says of the zone: its unit, or "utc"/"local" from the field
	identity  []int
	idKeys    map[int]string // exposure attribute per identity column, e.g. "aircraft_serial"
	names     []string
	airdata   bool
	grouped   bool
	unknown   []string // position columns skipped for an unknown unit
}

// layoutOf reads a header line. It fails when no group has both a latitude and a longitude.
func layoutOf(line []byte, delim byte) (*layout, bool) {
	cells, _ := splitRecord(line, delim, nil)
	if len(cells) < 2 {
		return nil, false
	}
	l := &layout{ncols: len(cells), idKeys: map[int]string{}}
	cols := make([]column, len(cells))
	groups := map[string]*posCols{}
	get := func(c column) *posCols {
		p := groups[c.group]
		if p == nil {
			role, _ := roleOfGroup(c.group)
			p = &posCols{group: c.group, role: role, lat: -1, lon: -1, alt: -1}
			groups[c.group] = p
		}
		return p
	}
	var hasMs, hasUTC, hasTakeoffHeight bool
	for i, cell := range cells {
		c := splitName(cell)
		cols[i] = c
		l.names = append(l.names, c.raw)
		if c.group != "" {
			l.grouped = true
		}
		_, known := roleOfGroup(c.group)
		switch {
		case known && isLatName(c.field):
			if s, ok := angleScale(c.unit); ok {
				if p := get(c); p.lat < 0 {
					p.lat, p.latScale = i, s
				}
			} else {
				l.unknown = append(l.unknown, c.raw)
			}
		case known && isLonName(c.field):
			if s, ok := angleScale(c.unit); ok {
				if p := get(c); p.lon < 0 {
					p.lon, p.lonScale = i, s
				}
			} else {
				l.unknown = append(l.unknown, c.raw)
			}
		case isTimeName(c.field):
			l.timeCols = append(l.timeCols, i)
			l.timeZones = append(l.timeZones, zoneHint(c))
		case isIdentityName(c.field):
			l.identity = append(l.identity, i)
			l.idKeys[i] = identityKey(c.field)
		}
		hasMs = hasMs || c.field == "time" && c.unit == "millisecond"
		hasUTC = hasUTC || c.field == "datetime" && c.unit == "utc"
		hasTakeoffHeight = hasTakeoffHeight || c.field == "height_above_takeoff"
	}
	// Airdata's header (formats §14.1): time(millisecond), datetime(utc), height_above_takeoff(feet)…
	l.airdata = hasMs && hasUTC && hasTakeoffHeight
	for i, c := range cols {
		p := groups[c.group]
		if p == nil {
			continue
		}
		ref, rank := altitudeKind(c.field)
		if rank <= p.altRank {
			continue
		}
		if s, ok := lengthScale(c.unit); ok {
			p.alt, p.altScale, p.altRef, p.altRank, p.altName = i, s, ref, rank, c.raw
		}
	}
	// The summary's (DETAILS) identity cells first: RECOVER's are split by node-djiparsetxt
	// (formats §9.6) and the first non-empty value of a key wins.
	slices.SortStableFunc(l.identity, func(a, b int) int {
		da, db := cols[a].group == "details", cols[b].group == "details"
		switch {
		case da == db:
			return 0
		case da:
			return -1
		}
		return 1
	})
	// Aircraft first, then the other groups in header order.
	for _, p := range groups {
		if p.lat >= 0 && p.lon >= 0 {
			l.pos = append(l.pos, p)
		}
	}
	slices.SortFunc(l.pos, func(a, b *posCols) int {
		if (a.role == geo.RoleAircraft) != (b.role == geo.RoleAircraft) {
			if a.role == geo.RoleAircraft {
				return -1
			}
			return 1
		}
		return min(a.lat, a.lon) - min(b.lat, b.lon)
	})
	for _, p := range l.pos {
		l.posNames = append(l.posNames, cols[p.lat].raw+"/"+cols[p.lon].raw)
	}
	return l, len(l.pos) > 0
}

// run is the state of one Decode after the header.
type run struct {
	in   decoders.Input
	sink decoders.Sink
	lay  *layout

	rows, noFix, bad, short int64
	lastShort               bool
	lastLine                int
	lastOff                 int64

	timeCol, dateCol, clockCol int
	timeTried                  int
	timeNote                   string
	deviceLocal                bool  // times are a local clock of unknown zone: marked decoders.DeviceClock
	layouts                    []int // cached index into fullLayouts per column
	identity                   map[string]string
	takeoff                    *geo.Fix
	once                       decoders.NoteLimiter // bad cells are noted once, counted always
	commaDecimal               bool
}

func newRun(in decoders.Input, sink decoders.Sink, lay *layout) *run {
	r := &run{in: in, sink: sink, lay: lay, timeCol: -1, dateCol: -1, clockCol: -1, identity: map[string]string{},
		once: decoders.NoteLimiter{Sink: sink, Max: 1}}
	if len(lay.unknown) > 0 {
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeUnknownUnit, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: position columns with a unit this decoder does not know were skipped: %s", in.Path, strings.Join(lay.unknown, ", "))})
	}
	return r
}

func cell(fields [][]byte, i int) []byte {
	if i < 0 || i >= len(fields) {
		return nil
	}
	return fields[i]
}

// row decodes one data record.
func (r *run) row(fields [][]byte, lineNo int, off int64) {
	r.rows++
	r.lastLine, r.lastOff = lineNo, off
	r.lastShort = len(fields) < r.lay.ncols
	if r.lastShort {
		r.short++
	}
	for _, i := range r.lay.identity {
		if v := strings.TrimSpace(string(cell(fields, i))); v != "" && len(v) < 200 {
			if k := r.lay.idKeys[i]; r.identity[k] == "" && len(r.identity) < 64 {
				if !utf8.ValidString(v) {
					// Raw bytes (formats §11, non-UTF-8 names): keep them visible as escapes.
					v = strconv.QuoteToASCII(v)
				}
				r.identity[k] = v
			}
		}
	}
	t := r.rowTime(fields)
	for _, p := range r.lay.pos {
		r.position(p, fields, lineNo, off, t)
	}
}

func (r *run) position(p *posCols, fields [][]byte, lineNo int, off int64, t time.Time) {
	la, lo := cell(fields, p.lat), cell(fields, p.lon)
	if len(la) == 0 && len(lo) == 0 {
		return
	}
	lat, lon := parseNumber(la, r.commaDecimal), parseNumber(lo, r.commaDecimal)
	if !lat.ok || !lon.ok {
		// ';'-separated files from European locales write decimal commas.
		if !r.commaDecimal && strings.ContainsRune(string(la)+string(lo), ',') {
			r.commaDecimal = true
			lat, lon = parseNumber(la, true), parseNumber(lo, true)
		}
		if !lat.ok || !lon.ok {
			r.badCell(lineNo, off, p, la, lo)
			return
		}
	}
	latScale, lonScale, degE7 := p.latScale, p.lonScale, false
	if latScale == 1 && lonScale == 1 && lat.dec == 0 && lon.dec == 0 &&
		math.Abs(lat.v) > 90 && math.Abs(lon.v) > 180 && math.Abs(lat.v) <= 90e7 && math.Abs(lon.v) <= 180e7 {
		// Unitless integers both beyond degree range: int32 degrees × 1e7, as PX4's ulog2csv and
		// MAVLink exports write "lat"/"lon" (formats/mavlink-dataflash-ulog.md: GPS lat/lon int32 degE7).
		latScale, lonScale, degE7 = 1e-7, 1e-7, true
	}
	f := geo.Fix{Lat: lat.v * latScale, Lon: lon.v * lonScale, Role: p.role,
		PrecisionM: geo.PrecisionFromDecimals(min(lat.dec, lon.dec)) * max(latScale, lonScale), Time: t}
	if f.Lat == 0 && f.Lon == 0 || !f.Valid() {
		// Rows before the fix are 0,0 (formats §14.1).
		r.noFix++
		if !f.Valid() && !(f.Lat == 0 && f.Lon == 0) {
			r.badCell(lineNo, off, p, la, lo)
		}
		return
	}
	if p.role != geo.RoleAircraft && p.have && p.last == [2]float64{f.Lat, f.Lon} {
		return
	}
	if p.alt >= 0 && !degE7 {
		if a := parseNumber(cell(fields, p.alt), r.commaDecimal); a.ok {
			f.HasAlt, f.AltM, f.AltRef = true, a.v*p.altScale, p.altRef
		}
	}
	f.Evidence = r.in.Evidence("csvlog", locator(r.rows, lineNo), off, geo.ChannelOnDevice)
	f.Evidence.Message = r.lay.describe()
	f.Evidence.Encoding = "decimal degrees text"
	switch {
	case degE7:
		f.Evidence.Encoding = "integer degrees × 1e7 (inferred from the magnitude; no unit in the header)"
	case p.latScale != 1:
		f.Evidence.Encoding = "decimal text scaled to degrees from the header unit"
	}
	if f.HasAlt && p.altScale != 1 {
		f.Evidence.Note = "altitude converted from feet (" + p.altName + ")"
	}
	p.have, p.last = true, [2]float64{f.Lat, f.Lon}
	p.count++
	if p.first == nil {
		fc := f
		p.first = &fc
	}
	r.sink.Fix(f)
	if p.role == geo.RoleAircraft && r.lay.airdata && r.takeoff == nil {
		// Airdata exports start at motor start: the first fix is the take-off point, and it equals
		// the take-off point of the DJI summary block (formats §14.1 cross-check).
		tk := f
		tk.Role = geo.RoleTakeoff
		tk.Evidence.Note = "first position of the Airdata export, taken as the take-off point"
		r.takeoff = &tk
		r.sink.Fix(tk)
	}
}

// locator formats "row N @ line L" with one allocation: it runs once per position.
func locator(row int64, line int) string {
	var buf [48]byte
	out := append(buf[:0], "row "...)
	out = strconv.AppendInt(out, row, 10)
	out = append(out, " @ line "...)
	out = strconv.AppendInt(out, int64(line), 10)
	return string(out)
}

func (r *run) badCell(lineNo int, off int64, p *posCols, la, lo []byte) {
	r.bad++
	if !r.once.Allow(decoders.CodeBadValue) {
		return
	}
	r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadValue, Locator: locator(r.rows, lineNo), Offset: off,
		Message: fmt.Sprintf("%s: line %d (byte %d): %q,%q is not a position; row skipped (later ones are counted only)", r.in.Path, lineNo, off, clip(la), clip(lo))})
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// rowTime reads the row's instant from the time column chosen on the first rows that have one.
func (r *run) rowTime(fields [][]byte) time.Time {
	if r.timeCol < 0 && r.dateCol < 0 {
		if r.timeTried >= 100 || len(r.lay.timeCols) == 0 {
			return time.Time{}
		}
		r.timeTried++
		r.chooseTime(fields)
	}
	if r.timeCol >= 0 {
		t, k := parseTime(cell(fields, r.timeCol))
		if k == fullTime {
			return r.clock(t)
		}
		return time.Time{}
	}
	if r.dateCol >= 0 {
		d, k1 := parseTime(cell(fields, r.dateCol))
		c, k2 := parseTime(cell(fields, r.clockCol))
		if k1 == dateOnly && k2 == clockOnly {
			return r.clock(combine(d, c))
		}
	}
	return time.Time{}
}

// clock marks a time of a local column as a device's clock in an unknown zone, wall clock as
// written: every report then says so instead of calling it UTC. A cell with its own offset or an
// epoch number is an instant and stays one.
func (r *run) clock(t time.Time) time.Time {
	if !r.deviceLocal || t.Location() != time.UTC {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), decoders.DeviceClock)
}

func (r *run) chooseTime(fields [][]byte) {
	for j, i := range r.lay.timeCols {
		if _, k := parseTime(cell(fields, i)); k == fullTime {
			r.timeCol = i
			r.zoneNote(r.lay.timeZones[j], string(cell(fields, i)))
			return
		}
	}
	for j, i := range r.lay.timeCols {
		if _, k := parseTime(cell(fields, i)); k != dateOnly {
			continue
		}
		for _, c := range r.lay.timeCols {
			if _, k := parseTime(cell(fields, c)); k == clockOnly {
				r.dateCol, r.clockCol = i, c
				r.zoneNote(r.lay.timeZones[j], "")
				return
			}
		}
	}
}

// zoneNote records whether the times are UTC; local or unstated zones are said once. A local
// column ("CUSTOM.date [local]") is the clock of the phone or controller in a zone the file does
// not give: its times are marked device-local (decoders.DeviceClock), as SRT's are.
func (r *run) zoneNote(hint, sample string) {
	switch {
	case strings.Contains(hint, "utc") || hasOffset(sample) || parseNumber([]byte(sample), false).ok:
		r.timeNote = "utc"
	case strings.Contains(hint, "local"):
		r.timeNote, r.deviceLocal = "local", true
	default:
		r.timeNote = "unstated"
	}
	switch r.timeNote {
	case "local":
		r.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeTimeZone, Offset: -1,
			Message: fmt.Sprintf("%s: the time column is local time in a zone the file does not give; times are kept as written, marked device-local", r.in.Path)})
	case "unstated":
		r.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeTimeZone, Offset: -1,
			Message: fmt.Sprintf("%s: the time column is unstated time; times are kept as written, labelled UTC", r.in.Path)})
	}
}

// zoneHint is what a time column's name says of its zone: its unit ("[local]", "(utc)"), or,
// without one, "utc" or "local" when the field's name holds the word.
func zoneHint(c column) string {
	switch {
	case c.unit != "":
		return c.unit
	case strings.Contains(c.field, "utc"):
		return "utc"
	case strings.Contains(c.field, "local"):
		return "local"
	}
	return ""
}

// hasOffset reports whether a time cell ends with its zone: Z, or +hh:mm, -hh:mm, +hhmm, -hhmm.
func hasOffset(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "Z") || strings.Contains(s, "+") {
		return true
	}
	n := len(s)
	digits := func(t string) bool {
		for i := range len(t) {
			if t[i] < '0' || t[i] > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case n >= 6 && s[n-6] == '-' && s[n-3] == ':' && digits(s[n-5:n-3]) && digits(s[n-2:]):
		return true
	case n >= 5 && s[n-5] == '-' && digits(s[n-4:]) && strings.ContainsAny(s[:n-5], ":T"):
		return true
	}
	return false
}

// finish reports truncation, counts and what a reader of the file learns.
func (r *run) finish(size int64, skipped int64) {
	if r.lastShort && r.rows > 0 {
		r.short--
		r.sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: locator(r.rows, r.lastLine), Offset: r.lastOff,
			Message: fmt.Sprintf("%s: truncated CSV: the file ends at byte %d inside its last row (line %d, which starts at byte %d): the row has fewer cells than the %d-column header", r.in.Path, size, r.lastLine, r.lastOff, r.lay.ncols)})
	}
	if r.short > 0 {
		r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeShortRows, Offset: -1,
			Message: fmt.Sprintf("%s: %d rows have fewer cells than the header", r.in.Path, r.short)})
	}
	var positions int64
	for _, p := range r.lay.pos {
		positions += p.count
	}
	r.sink.Count("rows", r.rows)
	r.sink.Count("positions", positions)
	r.sink.Count("no_fix_rows", r.noFix)
	r.sink.Count("bad_rows", r.bad)
	r.sink.Count("junk_lines", skipped)
	r.exposure(positions)
}

func (r *run) exposure(positions int64) {
	attrs := map[string]string{}
	var ref *geo.Fix
	var what []string
	for _, p := range r.lay.pos {
		if p.first == nil {
			continue
		}
		if ref == nil {
			ref = p.first
		}
		key := strings.ReplaceAll(string(p.role), "-", "_")
		switch p.role {
		case geo.RoleAircraft:
			attrs["first_position"] = latLon(p.first)
			attrs["positions"] = strconv.FormatInt(p.count, 10)
			what = append(what, fmt.Sprintf("the flight track (%d positions)", p.count))
		default:
			attrs[key+"_point"] = latLon(p.first)
			what = append(what, "the "+string(p.role)+" position")
		}
	}
	if r.takeoff != nil {
		attrs["take_off_point"] = latLon(r.takeoff)
		what = append(what, "the take-off point")
	}
	if ref != nil && !ref.Time.IsZero() {
		attrs["start_time_"+r.timeNote] = ref.Time.Format("2006-01-02 15:04:05")
		what = append(what, "the date and time of the flight")
	}
	for k, v := range r.identity {
		attrs[k] = v
	}
	if len(r.identity) > 0 {
		what = append(what, "serial numbers and place names")
	}
	if len(what) == 0 {
		return
	}
	e := decoders.Exposure{Offset: -1, Values: attrs,
		Message: fmt.Sprintf("%s: a reader of this CSV learns %s", r.in.Path, strings.Join(what, ", "))}
	if ref != nil {
		e.Locator, e.Offset = ref.Evidence.Locator, ref.Evidence.Offset
	}
	r.sink.Exposure(e)
}

func latLon(f *geo.Fix) string {
	return strconv.FormatFloat(f.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(f.Lon, 'f', -1, 64)
}

package srt

import (
	"bytes"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// coord is one number as printed, with the count of its decimals (the precision of the print).
type coord struct {
	v   float64
	dec int
	ok  bool
}

// position is what one block says about one place (the aircraft or the home point).
type position struct {
	lat, lon coord
	// na is set when the firmware wrote N/A for lack of a fix (Mavic Pro "buggy" style).
	na       bool
	hasAlt   bool
	alt      float64
	altRef   string
	altKey   string
	line     int
	off      int64
	message  string // e.g. "GPS(lon,lat,sats)"
	named    bool   // [latitude: …] [longitude: …] styles, where the radians bug lives
	misspelt bool   // "longtitude"
}

func (p *position) seen() bool { return p.lat.ok || p.lon.ok || p.na }

// block is one SubRip block as far as it has been read.
type block struct {
	number    int // the index written in the file
	line      int // line of the index (or time range)
	off       int64
	textLines int
	font28    bool
	date      time.Time
	hasDate   bool
	dateMs    bool // the date carries milliseconds as ".mmm" (DJI FPV / Mavic 3 style)
	aircraft  position
	home      position
	// height above take-off from BAROMETER:, Hb: or "H …m"; used when no named altitude exists.
	hasHeight bool
	height    float64
	heightKey string
	cut       bool // a bracket or parenthesis was left open: the text was cut
	lastLine  int
	lastOff   int64
	// lineDate is the date and time of a time line that holds one instead of a SubRip range
	// (older firmware): the block's time when its text carries none.
	lineDate    time.Time
	hasLineDate bool
}

// time returns the block's date: from its text, else from its time line; zero when neither
// holds one.
func (b *block) time() time.Time {
	switch {
	case b.hasDate:
		return b.date
	case b.hasLineDate:
		return b.lineDate
	}
	return time.Time{}
}

// parseLine reads every position-bearing token of one text line into b. The line has its line
// ending and surrounding spaces removed; terminated says whether it ended with a newline (an
// unterminated last line may be cut mid-token, so an open bracket's last value is not trusted).
func parseLine(line []byte, b *block, lineNo int, off int64, terminated bool) {
	b.lastLine, b.lastOff = lineNo, off
	if bytes.Contains(line, []byte("<font")) && bytes.Contains(line, []byte(`size="28"`)) {
		b.font28 = true
	}
	if !b.hasDate {
		if t, ms, ok := findDate(line); ok {
			b.date, b.dateMs, b.hasDate = t, ms, true
		}
	}
	parseTuples(line, b, lineNo, off)
	parseBrackets(line, b, lineNo, off, terminated)
	parseHeights(line, b)
}

// parseTuples handles GPS(…), RTK(…) and HOME(…), with or without a space before the parenthesis.
func parseTuples(line []byte, b *block, lineNo int, off int64) {
	rest := line
	base := 0
	for {
		i := bytes.IndexByte(rest, '(')
		if i < 0 {
			return
		}
		open := base + i
		name := identBefore(line[:open])
		end := bytes.IndexByte(line[open+1:], ')')
		var body []byte
		if end < 0 {
			body = line[open+1:]
			b.cut = true
		} else {
			body = line[open+1 : open+1+end]
		}
		switch string(name) {
		case "GPS", "RTK":
			if !b.aircraft.seen() {
				parseGPSTuple(body, &b.aircraft, string(name), end >= 0)
				b.aircraft.line, b.aircraft.off = lineNo, off
			}
		case "HOME":
			if !b.home.seen() {
				parseHomeTuple(body, &b.home, end >= 0)
				b.home.line, b.home.off = lineNo, off
			}
		}
		if end < 0 {
			return
		}
		base = open + 1 + end + 1
		rest = line[base:]
	}
}

// identBefore returns the letters right before position end, skipping spaces ("GPS (" and "GPS(").
func identBefore(b []byte) []byte {
	j := len(b)
	for j > 0 && b[j-1] == ' ' {
		j--
	}
	k := j
	for k > 0 && isLetter(b[k-1]) {
		k--
	}
	return b[k:j]
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' }

// splitTuple splits "a, b, c" into at most 4 trimmed fields without allocating.
func splitTuple(body []byte, out *[4][]byte) int {
	n := 0
	for n < len(out) {
		i := bytes.IndexByte(body, ',')
		if i < 0 {
			out[n] = bytes.TrimSpace(body)
			return n + 1
		}
		out[n] = bytes.TrimSpace(body[:i])
		n++
		body = body[i+1:]
	}
	return n
}

// parseGPSTuple applies the order rule of formats §13: GPS(a,b,c) is (lon,lat) unless c looks like
// "12.3M" (Matrice 300, which writes lat,lon). The reference regex has no sign; a sign is accepted
// here so that a negative M300 value keeps the M300 order. An integer c is a satellite count.
func parseGPSTuple(body []byte, p *position, name string, closed bool) {
	var f [4][]byte
	n := splitTuple(body, &f)
	if n < 2 {
		return
	}
	if closed && n >= 2 && autelTuple(f[:n], p) {
		return
	}
	a, b := f[0], f[1]
	if isNA(a) || isNA(b) {
		p.na = true
		return
	}
	latFirst := n >= 3 && isM300Third(f[2])
	rtk := name == "RTK"
	if latFirst {
		p.lat, p.lon = parseCoord(a), parseCoord(b)
		p.message = pick(rtk, "RTK(lat,lon,alt M)", "GPS(lat,lon,alt M)")
	} else {
		p.lon, p.lat = parseCoord(a), parseCoord(b)
		switch {
		case n >= 3 && len(f[2]) > 1 && f[2][len(f[2])-1] == 'm':
			// "(lon, lat, 123.4m)": an altitude in metres (P4 RTK); its datum is not documented.
			if v := parseCoord(f[2][:len(f[2])-1]); v.ok {
				p.hasAlt, p.alt, p.altRef, p.altKey = true, v.v, "msl", "GPS third value (m)"
			}
			p.message = pick(rtk, "RTK(lon,lat,alt)", "GPS(lon,lat,alt)")
		case n >= 3:
			p.message = pick(rtk, "RTK(lon,lat,sats)", "GPS(lon,lat,sats)")
		default:
			p.message = pick(rtk, "RTK(lon,lat)", "GPS(lon,lat)")
		}
	}
	if !closed {
		// The tuple was cut: its last number may be incomplete, so trust nothing after it.
		if n == 2 {
			if latFirst {
				p.lon = coord{}
			} else {
				p.lat = coord{}
			}
		}
	}
}

// pick returns a or b; the messages are constants so that no string is built per block.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// autelTuple reads Autel's GPS(W:…,N:…,alt m), where a hemisphere letter gives axis and sign
// (index.js autelGPSRegex). It is not DJI but travels in the same pipelines.
func autelTuple(f [][]byte, p *position) bool {
	found := false
	for _, t := range f {
		if len(t) < 3 || t[1] != ':' {
			continue
		}
		c := parseCoord(bytes.TrimSpace(t[2:]))
		if !c.ok {
			continue
		}
		switch t[0] {
		case 'N':
			p.lat, found = c, true
		case 'S':
			c.v = -c.v
			p.lat, found = c, true
		case 'E':
			p.lon, found = c, true
		case 'W':
			c.v = -c.v
			p.lon, found = c, true
		}
	}
	if found {
		p.message = "Autel GPS(W:,N:)"
	}
	return found
}

func parseHomeTuple(body []byte, p *position, closed bool) {
	var f [4][]byte
	n := splitTuple(body, &f)
	if n < 2 || (!closed && n == 2) {
		return
	}
	if isNA(f[0]) || isNA(f[1]) {
		p.na = true
		return
	}
	// HOME is always lon,lat (formats §13).
	p.lon, p.lat = parseCoord(f[0]), parseCoord(f[1])
	p.message = "HOME(lon,lat)"
	if n >= 3 && len(f[2]) > 1 && f[2][len(f[2])-1] == 'm' {
		if v := parseCoord(f[2][:len(f[2])-1]); v.ok {
			p.hasAlt, p.alt, p.altRef, p.altKey = true, v.v, "msl", "HOME third value (m)"
		}
	}
}

func isNA(b []byte) bool {
	return len(b) == 3 && (b[0]|0x20) == 'n' && b[1] == '/' && (b[2]|0x20) == 'a'
}

// isM300Third matches an optional sign, digits, '.', digits and a capital M.
func isM300Third(b []byte) bool {
	if len(b) < 4 || b[len(b)-1] != 'M' {
		return false
	}
	b = b[:len(b)-1]
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	dot := bytes.IndexByte(b, '.')
	return dot > 0 && allDigits(b[:dot]) && allDigits(b[dot+1:])
}

// parseCoord parses a plain decimal number (optional sign, digits, optional fraction), with no
// spaces around it. Exponents are refused: DJI never prints them.
func parseCoord(b []byte) coord {
	v, dec, ok := geo.ParseDecimal(b, 0)
	return coord{v: v, dec: dec, ok: ok}
}

// parseBrackets reads "[key : value]" groups, several pairs per bracket allowed
// ("[rel_alt: -2.400 abs_alt: 0.401]"), with "key: v", "key : v" and "key v" spacing.
func parseBrackets(line []byte, b *block, lineNo int, off int64, terminated bool) {
	for {
		i := bytes.IndexByte(line, '[')
		if i < 0 {
			return
		}
		line = line[i+1:]
		end := bytes.IndexByte(line, ']')
		body := line
		closed := end >= 0
		if closed {
			body = line[:end]
		} else {
			b.cut = true
		}
		parsePairs(body, b, lineNo, off, closed || terminated)
		if !closed {
			return
		}
		line = line[end+1:]
	}
}

func parsePairs(body []byte, b *block, lineNo int, off int64, lastComplete bool) {
	for len(body) > 0 {
		body = skipBlanks(body)
		k := 0
		for k < len(body) && isLetter(body[k]) {
			k++
		}
		if k == 0 {
			// Not a key: skip one token.
			j := bytes.IndexByte(body, ' ')
			if j < 0 {
				return
			}
			body = body[j:]
			continue
		}
		key := body[:k]
		body = skipBlanks(body[k:])
		if len(body) > 0 && body[0] == ':' {
			body = skipBlanks(body[1:])
		}
		j := indexBlank(body)
		val := body
		last := j < 0
		if !last {
			val = body[:j]
			body = body[j:]
		} else {
			body = nil
		}
		if last && !lastComplete {
			return // the value may have been cut mid-number
		}
		namedValue(key, val, b, lineNo, off)
	}
}

// skipBlanks and indexBlank are the hot loop of the named styles; bytes.TrimLeft and
// bytes.IndexAny build an ASCII set on every call.
func skipBlanks(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[i:]
}

func indexBlank(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return -1
}

func namedValue(key, val []byte, b *block, lineNo int, off int64) {
	p := &b.aircraft
	switch string(key) {
	case "latitude":
		if isNA(val) {
			p.na = true
			return
		}
		p.lat = parseCoord(val)
	case "longitude", "longtitude":
		if isNA(val) {
			p.na = true
			return
		}
		p.lon = parseCoord(val)
		p.misspelt = key[4] == 't' // "longtitude" (sic, Mavic 2)
	case "abs_alt":
		if c := parseCoord(val); c.ok {
			p.hasAlt, p.alt, p.altRef, p.altKey = true, c.v, "msl", "abs_alt"
		}
		return
	case "altitude":
		if c := parseCoord(val); c.ok && p.altKey != "abs_alt" {
			p.hasAlt, p.alt, p.altRef, p.altKey = true, c.v, "msl", "altitude"
		}
		return
	case "rel_alt":
		if c := parseCoord(val); c.ok && !p.hasAlt {
			p.hasAlt, p.alt, p.altRef, p.altKey = true, c.v, "take-off", "rel_alt"
		}
		return
	default:
		return
	}
	p.named = true
	p.line, p.off = lineNo, off
	p.message = "[latitude] [longitude]"
	if p.misspelt {
		p.message = "[latitude] [longtitude]"
	}
}

// parseHeights reads the height above take-off: "BAROMETER:1.9" (Mavic Pro, "…M" on M300),
// "Hb:1.9" (old format), and ", H 45.60m" (one-line style C).
func parseHeights(line []byte, b *block) {
	if b.hasHeight {
		return
	}
	for _, key := range [...]string{"BAROMETER:", "Hb:"} {
		if i := bytes.Index(line, []byte(key)); i >= 0 {
			if c := leadingNumber(line[i+len(key):]); c.ok {
				b.hasHeight, b.height, b.heightKey = true, c.v, key[:len(key)-1]
				return
			}
		}
	}
	rest := line
	for {
		i := bytes.Index(rest, []byte("H "))
		if i < 0 {
			return
		}
		if i == 0 || rest[i-1] == ' ' && i >= 2 && rest[i-2] == ',' {
			if c := leadingNumber(rest[i+2:]); c.ok {
				b.hasHeight, b.height, b.heightKey = true, c.v, "H"
				return
			}
		}
		rest = rest[i+2:]
	}
}

// leadingNumber parses the number at the start of b, stopping at the first other byte.
func leadingNumber(b []byte) coord {
	b = bytes.TrimLeft(b, " ")
	j := 0
	for j < len(b) && (isDigit(b[j]) || b[j] == '.' || (j == 0 && (b[j] == '-' || b[j] == '+'))) {
		j++
	}
	return parseCoord(b[:j])
}

// findDate finds "YYYY-MM-DD hh:mm:ss" or "YYYY.M.D hh:mm:ss" (old format, not zero-padded),
// optionally followed by ".mmm" (Mavic 3, DJI FPV) or ",mmm,µµµ" (Mavic 2, Air 2). The date has
// no zone: it is the camera's local time (formats §13), returned as a UTC wall clock.
func findDate(line []byte) (t time.Time, ms bool, ok bool) {
	for i := 0; i+14 <= len(line); i++ {
		if !isDigit(line[i]) || (i > 0 && isDigit(line[i-1])) {
			continue
		}
		if t, ms, n := dateAt(line[i:]); n > 0 {
			return t, ms, true
		}
	}
	return time.Time{}, false, false
}

// dateAt reads a date and time at the start of b; n is how many bytes it took, 0 when b does
// not start with one.
func dateAt(b []byte) (t time.Time, ms bool, n int) {
	p := 0
	num := func(min, max int) (int, bool) {
		v, n := 0, 0
		for p < len(b) && isDigit(b[p]) && n < max {
			v = v*10 + int(b[p]-'0')
			p++
			n++
		}
		return v, n >= min
	}
	expect := func(c byte) bool {
		if p < len(b) && b[p] == c {
			p++
			return true
		}
		return false
	}
	y, ok := num(4, 4)
	if !ok || p >= len(b) || (b[p] != '-' && b[p] != '.') {
		return time.Time{}, false, 0
	}
	sep := b[p]
	p++
	mo, ok1 := num(1, 2)
	ok2 := expect(sep)
	d, ok3 := num(1, 2)
	ok4 := expect(' ')
	h, ok5 := num(1, 2)
	ok6 := expect(':')
	mi, ok7 := num(2, 2)
	ok8 := expect(':')
	s, ok9 := num(2, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9) ||
		mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false, 0
	}
	nsec := 0
	if p < len(b) && (b[p] == '.' || b[p] == ',') {
		sepc := b[p]
		p++
		start := p
		f, n := 0, 0
		for p < len(b) && isDigit(b[p]) && n < 9 {
			f = f*10 + int(b[p]-'0')
			p++
			n++
		}
		if n > 0 {
			for k := n; k < 9; k++ {
				f *= 10
			}
			nsec = f
			ms = sepc == '.'
			// ",mmm,µµµ": the second group holds microseconds.
			if sepc == ',' && p-start == 3 && p+4 <= len(b) && b[p] == ',' &&
				isDigit(b[p+1]) && isDigit(b[p+2]) && isDigit(b[p+3]) {
				nsec += (int(b[p+1]-'0')*100 + int(b[p+2]-'0')*10 + int(b[p+3]-'0')) * 1000
				p += 4
			}
		} else {
			p = start - 1 // a separator with no digits after it is not part of the date
		}
	}
	// The camera's clock, in a zone the file does not give: a report must not call it UTC.
	return time.Date(y, time.Month(mo), d, h, mi, s, nsec, decoders.DeviceClock), ms, p
}

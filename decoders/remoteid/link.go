package remoteid

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/droneid"
	"droneaudit/geo"
)

// LinkDecoder is the over-the-air decoder: it reads radiotap and plain 802.11 captures and reports
// every drone position broadcast in them — DJI DroneID, Open Drone ID in beacons and NAN, and the
// French beacon — as fixes on the broadcast channel.
type LinkDecoder struct{}

// Name implements decoders.LinkDecoder.
func (LinkDecoder) Name() string { return "remoteid" }

// Handles implements decoders.LinkDecoder: LINKTYPE 105 and 127.
func (LinkDecoder) Handles(lt capture.LinkType) bool { return lt.IsDot11() }

// NewLink implements decoders.LinkDecoder.
func (LinkDecoder) NewLink(in decoders.Input, sink decoders.Sink) decoders.LinkStream {
	return &Stream{in: in, sink: sink, dedup: NewDedup(), idents: map[identKey]bool{}, macs: map[[6]byte]bool{},
		notes: decoders.NoteLimiter{Sink: sink, Max: maxNotesPerCode, Summary: notesNotListed}}
}

// Limits on what one capture can make the stream remember or report.
const (
	maxIdentities   = 4096 // distinct identities reported as notes
	maxNotesPerCode = 50   // per-frame notes of one code; the rest are counted and summarised
)

// Stream decodes the 802.11 frames of one capture.
type Stream struct {
	in     decoders.Input
	sink   decoders.Sink
	sc     Scanner
	dedup  *Dedup
	idents map[identKey]bool
	macs   map[[6]byte]bool
	notes  decoders.NoteLimiter // per-frame notes
	// Per-frame strings, built once per frame that yields a fix.
	loc, tx string
	// OnSighting, when set, is told of every sighting (also the copies heard again on another
	// channel) with the fixes it yielded, so that an aircraft collector works from the same
	// decoding and evidence as the audit. fixes is valid only during the call.
	OnSighting func(p *capture.Packet, s *Sighting, fixes []geo.Fix, duplicate bool)
	heard      []geo.Fix
}

type identKey struct{ kind, value string }

// kindCounters are the per-kind counter names, built once.
var kindCounters = map[string]string{KindDJI: "broadcast_" + KindDJI, KindODIDBeacon: "broadcast_" + KindODIDBeacon,
	KindODIDParrot: "broadcast_" + KindODIDParrot, KindNANSDF: "broadcast_" + KindNANSDF, KindNANSync: "broadcast_" + KindNANSync,
	KindFrench: "broadcast_" + KindFrench}

// Packet implements decoders.LinkStream.
func (st *Stream) Packet(p *capture.Packet) {
	if !p.LinkType.IsDot11() {
		return
	}
	st.sink.Count("dot11_frames", 1)
	s, err := st.sc.Scan(p)
	var de *capture.Dot11Error
	switch {
	case errors.Is(err, ErrBadFCS):
		st.sink.Count("dot11_bad_fcs", 1)
		return
	case errors.As(err, &de):
		st.sink.Count("dot11_malformed", 1)
		st.note(p, decoders.Warning, decoders.CodeMalformedFrame, nil, "%s: frame %d: %v", st.in.Path, p.Frame, err)
		return
	case err != nil || s == nil:
		return
	}
	if st.dedup.Duplicate(s) {
		st.sink.Count("broadcast_duplicates", 1)
		if st.OnSighting != nil {
			st.OnSighting(p, s, nil, true)
		}
		return
	}
	st.sink.Count("broadcast_frames", 1)
	st.loc, st.tx = "", ""
	if s.Trailing > 0 {
		st.note(p, decoders.Info, decoders.CodeTrailingBytes, nil, "frame %d: %d stray bytes after the last information element", p.Frame, s.Trailing)
	}
	st.heard = st.heard[:0]
	for i := range s.Elements {
		st.element(p, s, &s.Elements[i])
	}
	if st.OnSighting != nil {
		st.OnSighting(p, s, st.heard, false)
	}
}

// Close implements decoders.LinkStream: it reports how many notes the per-code limit held back.
func (st *Stream) Close() { st.notes.Flush() }

// notesNotListed says how many per-frame notes of a code the limit held back: a busy channel
// repeats the same malformed beacon thousands of times, which is a fact worth one line.
func notesNotListed(h decoders.Held) (decoders.Note, bool) {
	return decoders.Note{Severity: decoders.Info, Code: h.Code, Offset: -1,
		Message: fmt.Sprintf("%d further %q notes not listed", h.Held, h.Code)}, true
}

// note reports a per-frame note, at most maxNotesPerCode of each code.
func (st *Stream) note(p *capture.Packet, sev decoders.Severity, code decoders.Code, attrs map[string]string, format string, a ...any) {
	if !st.notes.Allow(code) {
		return
	}
	st.sink.Note(decoders.Note{Severity: sev, Code: code, Locator: locator(p), Offset: p.Offset,
		Message: fmt.Sprintf(format, a...), Attrs: attrs})
}

func locator(p *capture.Packet) string { return "frame " + strconv.Itoa(p.Frame) }

// fix reports one position with its broadcast evidence.
func (st *Stream) fix(p *capture.Packet, s *Sighting, e *Element, decoder, message, encoding string, f geo.Fix) {
	f.Time = p.Time
	note := f.Evidence.Note
	if st.loc == "" {
		st.loc, st.tx = locator(p), capture.MAC(s.SA)
	}
	f.Evidence = st.in.Evidence(decoder, st.loc, p.Offset, geo.ChannelBroadcast)
	f.Evidence.Note = note
	f.Evidence.Message, f.Evidence.Encoding = message, encoding
	b := &geo.Broadcast{Transmitter: st.tx, Kind: e.Kind, FreqMHz: s.FreqMHz}
	if s.HasSignal {
		b.SignalDBm = s.SignalDBm
	}
	f.Evidence.Broadcast = b
	if f.Valid() {
		st.sink.Fix(f)
		if st.OnSighting != nil {
			st.heard = append(st.heard, f)
		}
	}
}

// identity reports each distinct identity once, with where it was first heard.
func (st *Stream) identity(p *capture.Packet, s *Sighting, kind, value string) {
	if value == "" {
		return
	}
	k := identKey{kind, value}
	if st.idents[k] || len(st.idents) >= maxIdentities {
		return
	}
	st.idents[k] = true
	attrs := map[string]string{kind: value, "transmitter": capture.MAC(s.SA)}
	if s.SSID != "" {
		attrs["ssid"] = s.SSID
	}
	msg := fmt.Sprintf("broadcast %s %q heard from %s", kind, value, capture.MAC(s.SA))
	if kind == "transmitter" {
		msg = "drone broadcasts heard from transmitter " + value
	}
	st.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Locator: locator(p), Offset: p.Offset, Message: msg, Attrs: attrs})
}

func (st *Stream) element(p *capture.Packet, s *Sighting, e *Element) {
	st.sink.Count(kindCounters[e.Kind], 1)
	if !st.macs[s.SA] && len(st.macs) < maxIdentities {
		st.macs[s.SA] = true
		st.identity(p, s, "transmitter", capture.MAC(s.SA))
	}
	switch e.Kind {
	case KindDJI:
		st.dji(p, s, e)
	case KindODIDBeacon, KindODIDParrot:
		st.pack(p, s, e, &e.Pack, e.Err)
	case KindNANSDF:
		if e.NAN.ODID {
			st.pack(p, s, e, &e.NAN.Pack, nil)
		}
		if e.Err != nil && !errors.Is(e.Err, ErrNANNotODID) {
			st.note(p, decoders.Warning, decoders.CodeMalformedElement, nil, "frame %d: NAN service discovery: %v", p.Frame, e.Err)
		}
	case KindFrench:
		st.french(p, s, e)
	}
}

func (st *Stream) dji(p *capture.Packet, s *Sighting, e *Element) {
	r := &e.DJI
	if e.Err != nil {
		st.note(p, decoders.Warning, decoders.CodeMalformedElement, nil, "frame %d @ byte %d: DJI DroneID element of %d bytes: %v", p.Frame, e.Offset, e.IELen, e.Err)
		return
	}
	if r.SerialValid() {
		st.identity(p, s, "aircraft_serial", r.Serial)
	}
	if r.Subcommand == droneid.SubPurpose {
		// User-entered flight registration text (§4.7): reported verbatim, never interpreted.
		st.identity(p, s, "dji_drone_id", r.DroneID)
		st.identity(p, s, "dji_flight_purpose", r.Purpose)
	}
	if r.Blank {
		st.note(p, decoders.Info, decoders.CodeDJIBlankFrame, map[string]string{"transmitter": capture.MAC(s.SA)},
			"frame %d: blank DJI DroneID element (known Mavic V01.04.0100/0200 firmware bug): DJI aircraft, no position", p.Frame)
		return
	}
	if an := r.Anomalies(); len(an) > 0 {
		attrs := map[string]string{"anomalies": strings.Join(an, ",")}
		if r.HasDroneBytes() && !r.DronePosition() {
			attrs["aircraft_lat"], attrs["aircraft_lon"] = ftoa(r.Lat), ftoa(r.Lon)
		}
		if r.HasHomeBytes() && !r.HomePosition() {
			attrs["home_lat"], attrs["home_lon"] = ftoa(r.HomeLat), ftoa(r.HomeLon)
		}
		st.note(p, decoders.Warning, decoders.CodeBroadcastAnomaly, attrs, "frame %d: DJI DroneID: %s", p.Frame, attrs["anomalies"])
	}
	msg := fmt.Sprintf("DJI DroneID 0x%02x v%d", r.Subcommand, r.Version)
	const enc = "int32 radians×1e7 /174533"
	if r.HasDroneBytes() {
		// With the GPS-valid flag clear the position still went over the air: it is reported
		// like any broadcast position (zones are matched against it, the policy decides), and
		// the evidence says the aircraft did not call it valid.
		f := geo.Fix{Lat: r.Lat, Lon: r.Lon, Role: geo.RoleAircraft, PrecisionM: droneid.PrecisionRadE7}
		if !r.DronePosition() {
			f.Evidence.Note = "GPS-valid flag clear"
		}
		st.fix(p, s, e, "droneid", msg, enc, f)
	}
	if r.AppPosition() {
		f := geo.Fix{Lat: r.AppLat, Lon: r.AppLon, Role: geo.RolePilot, PrecisionM: droneid.PrecisionRadE7}
		f.Evidence.Note = "pilot app position (v2 app lat/lon)"
		st.fix(p, s, e, "droneid", msg, enc, f)
	}
	if r.HomePosition() {
		st.fix(p, s, e, "droneid", msg, enc, geo.Fix{Lat: r.HomeLat, Lon: r.HomeLon, Role: geo.RoleHome, PrecisionM: droneid.PrecisionRadE7})
	}
}

func (st *Stream) pack(p *capture.Packet, s *Sighting, e *Element, pk *Pack, err error) {
	if err != nil {
		st.note(p, decoders.Warning, decoders.CodeMalformedElement, nil, "frame %d @ byte %d: %s element: %v", p.Frame, e.Offset, e.Kind, err)
		return
	}
	if pk.Truncated || pk.Missing > 0 {
		attrs := map[string]string{"declared": strconv.Itoa(pk.Declared), "complete": strconv.Itoa(pk.N - b2i(pk.Truncated))}
		if pk.N == 0 {
			// Not even the start of one message fits: there is no last message to describe.
			st.note(p, decoders.Warning, decoders.CodeTruncated, attrs, "%s: frame %d: message pack declares %d messages but its %s of %d bytes holds none",
				st.in.Path, p.Frame, pk.Declared, e.Kind, e.IELen)
		} else {
			last := &pk.Msgs[pk.N-1]
			st.note(p, decoders.Warning, decoders.CodeTruncated, attrs,
				"%s: frame %d: message pack declares %d messages but its %s of %d bytes holds %d whole (message %d has %d of 25 bytes)",
				st.in.Path, p.Frame, pk.Declared, e.Kind, e.IELen, pk.N-b2i(pk.Truncated), pk.N, last.Present)
		}
	}
	if v := otherViolations(pk.Violations); v != "" {
		st.note(p, decoders.Warning, decoders.CodePackRule, nil, "frame %d: message pack: %s", p.Frame, v)
	}
	for i := 0; i < pk.N; i++ {
		m := &pk.Msgs[i]
		if m.Truncated {
			continue
		}
		msg := messageNames[m.Type&0xf][m.Version&0xf]
		switch m.Type {
		case TypeBasicID:
			kind := "uas_id"
			if m.BasicID.IDType == 1 {
				kind = "aircraft_serial"
			}
			st.identity(p, s, kind, m.BasicID.UASID)
		case TypeOperatorID:
			st.identity(p, s, "operator_id", m.OperatorID.ID)
		case TypeSelfID:
			st.identity(p, s, "self_id", m.SelfID.Desc) // free text, may name people or missions
		case TypeLocation:
			l := &m.Location
			if !l.HasPosition() {
				continue
			}
			f := geo.Fix{Lat: l.Lat, Lon: l.Lon, Role: geo.RoleAircraft, PrecisionM: geo.PrecisionDegE7}
			if l.HasAltGeo() {
				f.HasAlt, f.AltM, f.AltRef = true, l.AltGeo, "ellipsoid"
			}
			st.fix(p, s, e, "remoteid", msg, "int32 degE7", f)
		case TypeSystem:
			sy := &m.System
			if !sy.HasOperator() {
				continue
			}
			f := geo.Fix{Lat: sy.OpLat, Lon: sy.OpLon, Role: geo.RolePilot, PrecisionM: geo.PrecisionDegE7}
			f.Evidence.Note = "operator location type " + sy.OpLocName()
			if sy.OpAltGeo > -1000 {
				f.HasAlt, f.AltM, f.AltRef = true, sy.OpAltGeo, "ellipsoid"
			}
			st.fix(p, s, e, "remoteid", msg, "int32 degE7", f)
		}
	}
}

// otherViolations lists the pack violations that the truncation note does not already report.
func otherViolations(v []string) string {
	var out []string
	for _, x := range v {
		if x != "truncated_message" && !strings.HasPrefix(x, "missing_") {
			out = append(out, x)
		}
	}
	return strings.Join(out, ",")
}

func (st *Stream) french(p *capture.Packet, s *Sighting, e *Element) {
	f := &e.French
	if e.Err != nil || f.BadTLVs > 0 {
		st.note(p, decoders.Warning, decoders.CodeMalformedElement, nil, "frame %d @ byte %d: French beacon: %d bad TLVs (%v)", p.Frame, e.Offset, f.BadTLVs, e.Err)
	}
	st.identity(p, s, "aircraft_serial", f.Serial)
	st.identity(p, s, "fr_identifier", f.Identifier)
	const enc = "int32 BE degE5"
	if f.HasPos {
		fx := geo.Fix{Lat: f.Lat, Lon: f.Lon, Role: geo.RoleAircraft, PrecisionM: PrecisionDegE5}
		if f.HasAltitude {
			fx.HasAlt, fx.AltM, fx.AltRef = true, float64(f.AltitudeM), "msl"
		}
		st.fix(p, s, e, "remoteid", "French beacon", enc, fx)
	}
	if f.HasTakeoff {
		fx := geo.Fix{Lat: f.TakeoffLat, Lon: f.TakeoffLon, Role: geo.RolePilot, PrecisionM: PrecisionDegE5}
		fx.Evidence.Note = "take-off point (pilot side)"
		st.fix(p, s, e, "remoteid", "French beacon take-off point", enc, fx)
	}
}

// messageNames are the evidence names of ODID messages by type and version, built once: a name
// per fix must not cost a formatting call on the hot path.
var messageNames = func() (n [16][16]string) {
	for t := range 16 {
		for v := range 16 {
			n[t][v] = fmt.Sprintf("ODID %s v%d", TypeName(uint8(t)), v)
		}
	}
	return n
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 7, 64) }

// Package dataflash decodes ArduPilot DataFlash logs (.bin): a self-describing stream of
// "A3 95 <type>" messages whose layouts arrive in FMT messages anywhere in the file, scaled by
// format characters or FMTU multipliers, optionally wrapped in a signed, hash-chained container.
// It reports every logged position (GPS, POS, AHR2, ORGN, HOME, CMD mission items, RALY rally
// points, CAM photo positions) as on-device fixes, and the aircraft's identity (board UID,
// serial parameter, firmware) as notes.
//
// Format reference: ../shared/formats/mavlink-dataflash-ulog.md §6 and the sources cited there.
package dataflash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Decoder is the DataFlash FileDecoder.
type Decoder struct{}

// New returns the DataFlash decoder.
func New() *Decoder { return &Decoder{} }

// Name implements decoders.FileDecoder.
func (*Decoder) Name() string { return "dataflash" }

// Sniff implements decoders.FileDecoder: a plain log starts with the FMT that describes FMT
// (A3 95 80 80 59 "FMT", §6.1); a signed container starts A5 01 and its data with the same FMT.
// A log cut at its start is recognised by several FMT messages in the head.
func (*Decoder) Sniff(h []byte) bool {
	if isSelfFMT(h) {
		return true
	}
	if isSignedHeader(h) && len(h) > signedHeaderLen && isSelfFMT(h[signedHeaderLen:]) {
		return true
	}
	n := 0
	for i := 0; i+lenFMT <= len(h) && n < 3; {
		j := bytes.Index(h[i:], []byte{head1, head2, typeFMT})
		if j < 0 {
			break
		}
		i += j
		if i+lenFMT <= len(h) {
			if f, ok := parseFMT(h[i+3 : i+lenFMT]); ok && f.Known && f.Name != "" {
				n++
			}
		}
		i += 3
	}
	return n >= 3
}

func isSelfFMT(h []byte) bool {
	return len(h) >= 8 && h[0] == head1 && h[1] == head2 && h[2] == typeFMT && h[3] == typeFMT &&
		h[4] == lenFMT && string(h[5:8]) == "FMT"
}

// maxNotesPerKind bounds the damage notes of one code per input; the rest are summed in one note.
const maxNotesPerKind = 50

// Decode implements decoders.FileDecoder.
func (d *Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	rd := NewReader(in.Reader(), in.Path)
	st := newState(in, sink)
	var err error
	for {
		var m Message
		m, err = rd.Next()
		if len(rd.problems) > 0 {
			st.problems(rd.Problems())
		}
		if err != nil {
			break
		}
		st.message(m)
		if m.Index&0xffff == 0xffff {
			if cerr := ctx.Err(); cerr != nil {
				err = cerr
				break
			}
		}
	}
	st.problems(rd.Problems())
	if info, ok := rd.Signed(); ok {
		st.signed(info)
	}
	st.finish(rd)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// state is the per-input decode state.
type state struct {
	in   decoders.Input
	sink decoders.Sink

	seen   [256]*Format
	ext    [256]*extractor
	text   [256]uint8 // textMSG, textPARM or textVER: messages read for identity
	counts [256]int64
	byName map[string]int64

	clk    clock
	fixes  int64
	noFix  int64 // GPS messages without a 3D fix
	home   *geo.Fix
	out    decoders.HeldFixes
	id     identity
	notes  decoders.NoteLimiter // the reader's damage notes
	locBuf []byte
}

const (
	textMSG = 1 + iota
	textPARM
	textVER
)

func newState(in decoders.Input, sink decoders.Sink) *state {
	return &state{in: in, sink: sink, out: decoders.HeldFixes{Sink: sink}, byName: map[string]int64{},
		notes: decoders.NoteLimiter{Sink: sink, Max: maxNotesPerKind, Summary: decoders.NotesNotShown(in.Path)}}
}

// message handles one framed message; the hot path is one array lookup for most types.
func (s *state) message(m Message) {
	t := m.Format.Type
	if m.Format != s.seen[t] {
		s.flushCount(t)
		s.seen[t] = m.Format
		s.ext[t] = newExtractor(m.Format)
		s.text[t] = 0
		if m.Format.Known {
			switch {
			case m.Format.Name == "MSG" && m.Format.Column("Message") >= 0:
				s.text[t] = textMSG
			case m.Format.Name == "PARM" && m.Format.Column("Name") >= 0 && m.Format.Column("Value") >= 0:
				s.text[t] = textPARM
			case m.Format.Name == "VER":
				s.text[t] = textVER
			}
		}
	}
	s.counts[t]++
	if x := s.ext[t]; x != nil {
		s.position(x, m)
	} else if s.text[t] != 0 {
		s.identity(m)
	}
}

// maxNames bounds the distinct message names counted; FMT redefinitions could otherwise grow
// the map with the file. Real logs have under 300.
const maxNames = 4096

func (s *state) flushCount(t uint8) {
	if f := s.seen[t]; f != nil && s.counts[t] > 0 {
		name := f.Name
		if _, ok := s.byName[name]; !ok && len(s.byName) >= maxNames {
			name = "(other)"
		}
		s.byName[name] += s.counts[t]
		s.counts[t] = 0
	}
}

// locator formats "message 40 @ 0x1f3a" with one allocation: it runs once per fix.
func (s *state) locator(m Message) string {
	b := append(s.locBuf[:0], "message "...)
	b = strconv.AppendInt(b, int64(m.Index), 10)
	if m.Offset >= 0 { // -1 only in a signed container of hostile, tiny spans
		b = append(b, " @ 0x"...)
		b = strconv.AppendInt(b, m.Offset, 16)
	}
	s.locBuf = b
	return string(b)
}

func (s *state) position(x *extractor, m Message) {
	lat, lon := x.degrees(m, x.lat), x.degrees(m, x.lon)
	fix := geo.Fix{Lat: lat, Lon: lon, Role: geo.RoleAircraft, PrecisionM: x.precision(lat)}
	boot, hasBoot := x.bootTime(m)
	var note string
	switch x.kind {
	case kindGPS:
		if x.status >= 0 {
			if st, _ := m.Raw(x.status); st < 3 {
				s.noFix++
				return
			}
		}
		if x.gwk >= 0 && x.gms >= 0 {
			wk, _ := m.Raw(x.gwk)
			ms, _ := m.Raw(x.gms)
			if utc, ok := GPSTime(wk, ms); ok {
				fix.Time = utc
				if !s.clk.ok && hasBoot && fix.Valid() {
					s.clk = clock{ok: true, boot: boot, utc: utc, anchorAt: m.Offset}
					s.out.Release(s.clk.at)
				}
			}
		}
	case kindAHR2:
		note = "backup AHRS estimate"
	case kindORGN:
		typ := 0.0
		if x.orgnType >= 0 {
			typ, _ = m.Raw(x.orgnType)
		}
		if typ == 1 {
			fix.Role = geo.RoleHome
			note = "AHRS home (ORGN Type 1)"
		} else {
			// The EKF origin is where the estimator initialised: normally the power-on and
			// take-off site, which is why it is reported as take-off rather than home.
			fix.Role = geo.RoleTakeoff
			note = "EKF origin (ORGN Type 0)"
		}
	case kindHOME:
		fix.Role = geo.RoleHome
	case kindCMD:
		fix.Role = geo.RoleWaypoint
		if x.cnum >= 0 {
			if n, _ := m.Raw(x.cnum); n == 0 {
				fix.Role = geo.RoleHome
				note = "mission slot 0 (home)"
			}
		}
		if x.cid >= 0 {
			id, _ := m.Raw(x.cid)
			if note != "" {
				note += ", "
			}
			note += "MAV_CMD " + strconv.Itoa(int(id))
		}
	case kindCAM:
		fix.Role = geo.RolePhoto
	case kindRALY:
		fix.Role = geo.RoleWaypoint
		note = "rally point"
	}
	if !fix.Valid() {
		return
	}
	if fix.Time.IsZero() && hasBoot {
		fix.Time = s.clk.at(boot)
	}
	s.altitude(x, m, &fix)
	fix.Evidence = s.in.Evidence("dataflash", s.locator(m), m.Offset, geo.ChannelOnDevice)
	fix.Evidence.Message = x.f.Name
	fix.Evidence.Encoding = x.encoding
	fix.Evidence.Note = note
	s.fixes++
	if fix.Role == geo.RoleHome {
		h := fix
		s.home = &h
	}
	// Positions logged before the first GPS time get their UTC once it arrives.
	if fix.Time.IsZero() && hasBoot && !s.clk.ok && s.out.Hold(fix, boot) {
		return
	}
	s.out.Emit(fix)
}

// altitude fills the altitude and its reference. GPS, POS, AHR2, ORGN, HOME and CAM give metres
// above mean sea level; a mission item's altitude depends on its MAVLink frame, which only
// current CMD layouts log.
func (s *state) altitude(x *extractor, m Message, fix *geo.Fix) {
	if x.alt < 0 {
		return
	}
	if x.kind == kindRALY {
		return // int16 metres whose reference (home or sea level) the layout does not say
	}
	if x.kind == kindAHR2 && x.timeMS >= 0 {
		// 3.3-era AHR2 (TimeMS layout) logs an altitude that is not above mean sea level:
		// 0.16 m at take-off in the corpus flight, whose GPS says 590 m. Left out rather than
		// mislabelled.
		return
	}
	v, ok := m.Value(x.alt)
	if !ok {
		return
	}
	ref := "msl"
	if x.kind == kindCMD {
		ref = ""
		if n, _ := m.Raw(x.cnum); x.cnum >= 0 && n == 0 {
			ref = "msl"
		} else if fr := x.f.Column("Frame"); fr >= 0 {
			// MAV_FRAME: 0 GLOBAL, 3 GLOBAL_RELATIVE_ALT, 5/6 their _INT forms, 10/11 TERRAIN_ALT.
			switch f, _ := m.Raw(fr); f {
			case 0, 5:
				ref = "msl"
			case 3, 6:
				ref = "take-off"
			case 10, 11:
				ref = "ground"
			}
		}
		if ref == "" {
			return
		}
	}
	fix.HasAlt, fix.AltM, fix.AltRef = true, v, ref
}

// identity reads MSG and PARM messages for facts that identify the aircraft.
func (s *state) identity(m Message) {
	var keys []string
	switch s.text[m.Format.Type] {
	case textMSG:
		txt, _ := m.String(m.Format.Column("Message"))
		keys = s.id.fromText(txt)
	case textPARM:
		name, _ := m.String(m.Format.Column("Name"))
		v, _ := m.Value(m.Format.Column("Value"))
		if k := s.id.fromParam(name, v); k != "" {
			keys = []string{k}
		}
	case textVER:
		keys = s.id.fromVER(m)
	}
	for _, k := range keys {
		v := s.id.attrs[k]
		if k != "board_uid" && k != "brd_serial_num" {
			continue // the board name, firmware and sysid go into the exposure only
		}
		s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Locator: s.locator(m), Offset: m.Offset,
			Message: fmt.Sprintf("aircraft identity in %s: %s = %s", m.Format.Name, k, v),
			Attrs:   map[string]string{k: v}})
	}
}

func (s *state) problems(ps []Problem) {
	for _, p := range ps {
		code := p.Kind
		if code == KindChain {
			code = decoders.CodeSignedChain
		}
		if !s.notes.Allow(code) {
			continue
		}
		s.sink.Note(decoders.Note{Severity: decoders.Warning, Code: code, Locator: "offset 0x" + strconv.FormatInt(p.Offset, 16),
			Offset: p.Offset, Message: s.in.Path + ": " + p.Detail})
	}
}

func (s *state) signed(info SignedInfo) {
	intact := "no"
	if info.ChainIntact {
		intact = "yes"
	}
	s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeSignedContainer, Locator: "header", Offset: 0,
		Message: fmt.Sprintf("signed container (signature not verified): %s hash chain, chain intact %s, %d chunk records removed",
			info.Algorithm, intact, info.Chunks),
		Attrs: map[string]string{
			"algorithm":     info.Algorithm,
			"chain_intact":  intact,
			"chunks":        strconv.Itoa(info.Chunks),
			"device_id":     strconv.Itoa(int(info.DeviceID)),
			"firmware":      fmt.Sprintf("%d.%d", info.Firmware>>8, info.Firmware&0xff),
			"log_counter":   strconv.Itoa(int(info.Counter)),
			"container_utc": time.Unix(int64(info.UnixTime), 0).UTC().Format(time.RFC3339),
		}})
	s.id.set("signing_device_id", strconv.Itoa(int(info.DeviceID)))
}

// finish reports the per-type counts and what the log exposes.
func (s *state) finish(rd *Reader) {
	s.out.Release(s.clk.at)
	total := int64(0)
	for t := range s.counts {
		s.flushCount(uint8(t))
	}
	for name, n := range s.byName {
		s.sink.Count("msg_"+name, n)
		total += n
	}
	s.sink.Count("messages", total)
	s.sink.Count("fixes", s.fixes)
	if s.noFix > 0 {
		s.sink.Count("gps_without_3d_fix", s.noFix)
	}
	if rd.Skipped > 0 {
		s.sink.Count("skipped_bytes", rd.Skipped)
	}
	s.notes.Flush()
	if s.byName["SIM"]+s.byName["SIM2"] > 0 {
		s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeSimulator, Offset: -1,
			Message: s.in.Path + ": the log holds SITL ground truth (SIM messages): it was written by a simulator, not an aircraft"})
	}
	if s.fixes == 0 && len(s.id.attrs) == 0 {
		return
	}
	attrs := map[string]string{}
	for _, k := range s.id.order {
		attrs[k] = s.id.attrs[k]
	}
	attrs["positions"] = strconv.FormatInt(s.fixes, 10)
	if s.home != nil {
		attrs["home"] = strconv.FormatFloat(s.home.Lat, 'f', 7, 64) + "," + strconv.FormatFloat(s.home.Lon, 'f', 7, 64)
	}
	if !s.out.First.IsZero() {
		attrs["first_utc"] = s.out.First.Format(time.RFC3339)
		attrs["last_utc"] = s.out.Last.Format(time.RFC3339)
	}
	s.sink.Exposure(decoders.Exposure{Offset: -1,
		Message: fmt.Sprintf("the log holds %d positions and the aircraft's identity", s.fixes), Values: attrs})
}

// Package ulog decodes PX4 ULog files (.ulg): a 16-byte header, then size/type-framed messages
// with text format definitions, subscriptions and packed data. It reports the positions of the
// GPS, global-position, home, EKF-origin and mission topics as on-device fixes, the aircraft's
// identity as notes, and offers a summary API (topics, counts, info, logged strings, dropouts)
// comparable with pyulog's ulog_info and ulog_messages.
//
// Format reference: ../shared/formats/mavlink-dataflash-ulog.md §7 and the sources cited there.
package ulog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Decoder is the ULog FileDecoder.
type Decoder struct{}

// New returns the ULog decoder.
func New() *Decoder { return &Decoder{} }

// Name implements decoders.FileDecoder.
func (*Decoder) Name() string { return "ulog" }

// Sniff implements decoders.FileDecoder: the 7-byte magic "ULog" 01 12 35 (§7.1).
func (*Decoder) Sniff(head []byte) bool {
	return len(head) >= headerLen && bytes.Equal(head[:7], Magic)
}

// maxNotesPerKind bounds the damage notes of one code per input; the rest are summed in one note.
const maxNotesPerKind = 50

// Decode implements decoders.FileDecoder.
func (d *Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	rd, err := NewReader(in.Reader(), in.Path)
	if errors.Is(err, ErrCutHeader) {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: "file header", Offset: 0,
			Message: fmt.Sprintf("%s: truncated ULog: the file (%d bytes) ends inside its header, which starts at byte 0", in.Path, in.Size)})
		return nil
	}
	if err != nil {
		return err
	}
	st := &state{in: in, sink: sink, out: decoders.HeldFixes{Sink: sink}, z: newSummarizer(rd),
		notes: decoders.NoteLimiter{Sink: sink, Max: maxNotesPerKind, Summary: decoders.NotesNotShown(in.Path)}}
	n := 0
	for {
		var m Message
		m, err = rd.Next()
		if len(rd.problems) > 0 {
			st.problems(rd.Problems())
		}
		if err != nil {
			break
		}
		if m.Type == 'D' {
			// The hot path: one timestamp read serves the summary and the fixes.
			if m.Sub != nil {
				ts, hasTS := m.Sub.Timestamp(m.Data)
				if hasTS && ts > st.z.s.LastTimestamp {
					st.z.s.LastTimestamp = ts
				}
				st.data(m, ts, hasTS)
			}
		} else {
			st.z.add(m)
		}
		if n++; n&0xffff == 0 {
			if cerr := ctx.Err(); cerr != nil {
				err = cerr
				break
			}
		}
	}
	if errors.Is(err, ErrIncompat) {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeUnsupported, Locator: "flag bits", Offset: 16,
			Message: err.Error() + ": the ULog specification requires refusing the log"})
	}
	sum := st.z.finish(rd)
	st.finish(rd, sum)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

type state struct {
	in     decoders.Input
	sink   decoders.Sink
	z      *summarizer
	locBuf []byte
	out    decoders.HeldFixes
	clk    clock
	notes  decoders.NoteLimiter // the reader's damage notes

	fixes    int64
	gpsNoFix int64
	home     *geo.Fix
}

func (s *state) data(m Message, ts uint64, hasTS bool) {
	sub := m.Sub
	if !sub.extDone {
		sub.ext, sub.extDone = newExtractor(sub.Name, sub.Layout), true
	}
	x := sub.ext
	if x == nil {
		return
	}
	var gpsUTC time.Time
	if x.isGPS {
		// time_utc_usec is valid when non-zero (§7.5), with or without a position fix: it
		// anchors the boot-time clock first.
		if x.utc != nil {
			if u, ok := x.utc.Uint64(m.Data); ok && u >= absoluteThreshold {
				gpsUTC = time.UnixMicro(int64(u)).UTC()
				if !s.clk.ok && hasTS && ts > 0 && ts < absoluteThreshold {
					s.clk = clock{ok: true, boot: ts, utc: gpsUTC}
					s.out.Release(s.utcAt)
				}
			}
		}
		if x.fixType != nil {
			if ft, ok := x.fixType.Float(m.Data, 0); ok && ft < 2 {
				s.gpsNoFix++
				return
			}
		}
	}
	for _, p := range x.points {
		if p.valid != nil {
			if v, ok := p.valid.Float(m.Data, 0); !ok || v == 0 {
				continue
			}
		}
		lat, lon, ok := p.read(m.Data)
		if !ok {
			continue
		}
		if p.dedupe {
			if lat == p.lastLat && lon == p.lastLon {
				continue
			}
			p.lastLat, p.lastLon = lat, lon
		}
		fix := geo.Fix{Lat: lat, Lon: lon, Role: p.role, PrecisionM: p.precision(lat)}
		if !fix.Valid() {
			continue
		}
		if !gpsUTC.IsZero() {
			fix.Time = gpsUTC
		} else if hasTS {
			fix.Time = s.clk.at(ts)
		}
		if p.alt != nil {
			if a, ok := p.alt.Float(m.Data, 0); ok && !isNaN(a) {
				fix.HasAlt, fix.AltM, fix.AltRef = true, a*p.altScale, p.altRef
				if p.relative != nil {
					if r, _ := p.relative.Float(m.Data, 0); r != 0 {
						fix.AltRef = "take-off"
					}
				}
			}
		}
		fix.Evidence = s.in.Evidence("ulog", s.locator(m), m.Offset, geo.ChannelOnDevice)
		fix.Evidence.Message = sub.Name
		fix.Evidence.Encoding = p.encoding
		fix.Evidence.Note = p.note
		s.fixes++
		if fix.Role == geo.RoleHome {
			h := fix
			s.home = &h
		}
		// Positions logged before the first GPS time get their UTC once it arrives.
		if fix.Time.IsZero() && hasTS && ts > 0 && !s.clk.ok && s.out.Hold(fix, time.Duration(ts)*time.Microsecond) {
			continue
		}
		s.out.Emit(fix)
	}
}

// utcAt times a held fix from its boot timestamp (held as a duration).
func (s *state) utcAt(boot time.Duration) time.Time { return s.clk.at(uint64(boot / time.Microsecond)) }

// locator formats "message 812 @ 0x1f3a" (the message's 0-based number in the file) with one
// allocation: it runs per fix.
func (s *state) locator(m Message) string {
	b := append(s.locBuf[:0], "message "...)
	b = strconv.AppendInt(b, int64(m.Index), 10)
	b = append(b, " @ 0x"...)
	b = strconv.AppendInt(b, m.Offset, 16)
	s.locBuf = b
	return string(b)
}

func isNaN(f float64) bool { return f != f }

func (s *state) problems(ps []Problem) {
	for _, p := range ps {
		if !s.notes.Allow(p.Kind) {
			continue
		}
		s.sink.Note(decoders.Note{Severity: decoders.Warning, Code: p.Kind, Locator: "offset 0x" + strconv.FormatInt(p.Offset, 16),
			Offset: p.Offset, Message: s.in.Path + ": " + p.Detail})
	}
}

// identityKeys are the info fields that identify the aircraft or its owner's setup.
var identityKeys = []struct{ info, attr string }{
	{"sys_uuid", "sys_uuid"},
	{"ver_hw", "board"},
	{"ver_hw_subtype", "board_subtype"},
	{"sys_name", "system"},
	{"ver_sw", "firmware_git"},
	{"ver_sw_branch", "firmware_branch"},
	{"sys_mcu", "mcu"},
	{"sys_toolchain_ver", "toolchain"},
	{"time_ref_utc", "utc_offset_s"},
}

// guidLine finds the PX4GUID that PX4 prints in the boot console output.
func guid(lists [][]Value) string {
	for _, l := range lists {
		var b strings.Builder
		for _, v := range l {
			b.WriteString(v.Str)
		}
		text := b.String()
		if i := strings.Index(text, "PX4GUID: "); i >= 0 {
			rest := text[i+len("PX4GUID: "):]
			if j := strings.IndexAny(rest, " \r\n"); j >= 0 {
				rest = rest[:j]
			}
			return rest
		}
	}
	return ""
}

func (s *state) finish(rd *Reader, sum *Summary) {
	s.out.Release(s.utcAt)
	byTopic := map[string]int64{}
	var total int64
	for _, t := range sum.Topics {
		byTopic[t.Name] += int64(t.Count)
		total += int64(t.Count)
	}
	names := make([]string, 0, len(byTopic))
	for n := range byTopic {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.sink.Count("msg_"+n, byTopic[n])
	}
	s.sink.Count("messages", total)
	s.sink.Count("fixes", s.fixes)
	s.sink.Count("logged_strings", int64(len(sum.Logged)))
	if len(sum.Dropouts) > 0 {
		var ms int64
		for _, d := range sum.Dropouts {
			ms += int64(d.DurationMS)
		}
		s.sink.Count("dropouts", int64(len(sum.Dropouts)))
		s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeDropouts, Locator: fmt.Sprintf("offset 0x%x", sum.Dropouts[0].Offset),
			Offset: sum.Dropouts[0].Offset, Message: fmt.Sprintf("the logger lost data %d times (%d ms in all)", len(sum.Dropouts), ms)})
	}
	if s.gpsNoFix > 0 {
		s.sink.Count("gps_without_fix", s.gpsNoFix)
	}
	if rd.Skipped > 0 {
		s.sink.Count("skipped_bytes", rd.Skipped)
	}
	if len(sum.Appended) > 0 {
		s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeAppendedData, Offset: sum.Appended[0],
			Locator: fmt.Sprintf("offset 0x%x", sum.Appended[0]),
			Message: fmt.Sprintf("the log has %d appended data section(s), typically crash data", len(sum.Appended))})
	}
	s.notes.Flush()

	attrs := map[string]string{}
	for _, k := range identityKeys {
		if v, ok := sum.Info[k.info]; ok && v.String() != "" {
			attrs[k.attr] = v.String()
		}
	}
	if g := guid(sum.MultiInfo["boot_console_output"]); g != "" {
		attrs["px4_guid"] = g
	}
	if v, ok := sum.Params["MAV_SYS_ID"]; ok && v.String() != "1" {
		attrs["mavlink_sysid"] = v.String() // 1 is the default every vehicle shares
	}
	for _, k := range []string{"sys_uuid", "px4_guid"} {
		if v, ok := attrs[k]; ok && (k == "sys_uuid" || v != attrs["sys_uuid"]) {
			s.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Locator: "info " + k, Offset: -1,
				Message: fmt.Sprintf("aircraft identity: %s = %s", k, v), Attrs: map[string]string{k: v}})
		}
	}
	if s.fixes == 0 && len(attrs) == 0 {
		return
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

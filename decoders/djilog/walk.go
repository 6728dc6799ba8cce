package djilog

import (
	"fmt"
	"strconv"

	"droneaudit/decoders"
)

// Record types the decoder reads (formats §8, DJI's FlightRecordProtocolEnum.h).
const (
	typeOSD             = 1
	typeHome            = 2
	typeCustom          = 5
	typeRCGPS           = 11
	typeRecover         = 13
	typeAppGPS          = 14
	typeFirmware        = 15
	typeComponentSerial = 40
	typeKeychainSwitch  = 50 // FlightRecordRecover: plaintext, starts the next keychain
	typeKeyStorage      = 56
)

// v6ProbeRecords is how many leading records decide whether a v6 file is scrambled (formats §5.6).
const v6ProbeRecords = 20

// walk decodes every record between recStart and recEnd.
func (r *run) walk() error {
	scrambled := r.p.version >= firstScrambled
	if r.p.version == 6 {
		scrambled = r.probeV6()
		r.note(decoders.Info, decoders.CodeV6Scrambling, int64(r.recStart), "", fmt.Sprintf("version 6: records read as %s, chosen by the check byte of the first %d records", map[bool]string{true: "scrambled", false: "plain"}[scrambled], v6ProbeRecords), nil)
	}
	r.emitDetails()
	w := newWindow(r.in.R, r.recStart, r.recEnd, windowSize)
	k := newWalker(w, r.p, scrambled)
	k.stopAtTail = !r.endKnown
	for i := 0; ; i++ {
		if i&4095 == 0 {
			if err := r.ctx.Err(); err != nil {
				return fmt.Errorf("%s: offset %d: %w", r.in.Path, w.offset(), err)
			}
		}
		rec, ok := k.next()
		if !ok {
			break
		}
		r.counts[rec.Type]++
		r.record(rec, scrambled)
	}
	r.flushFrame()
	r.walkNotes(k)
	if w.err != nil {
		return fmt.Errorf("%s: offset %d: reading records: %w", r.in.Path, w.offset(), w.err)
	}
	return nil
}

// probeV6 reports whether the first records of a v6 file pass the scrambled check byte.
func (r *run) probeV6() bool {
	w := newWindow(r.in.R, r.recStart, r.recEnd, 4*maxRecord)
	plain := newWalker(w, r.p, false)
	seen := 0
	for seen < v6ProbeRecords {
		b := w.peek(plain.hlen + 256)
		total, st, _ := plain.frameAt(b)
		if st != frameOK {
			break
		}
		p := b[plain.hlen : total-1]
		if len(p) < 3 {
			return false
		}
		if _, ok := checkScrambled(p, b[0], r.p.magicVer); !ok {
			return false
		}
		seen++
		w.skip(total)
	}
	return seen > 0
}

// record dispatches one good record to its decoder.
func (r *run) record(rec record, scrambled bool) {
	if r.p.version >= firstAuxVersion && rec.Type != typeKeyStorage && rec.Type != typeKeychainSwitch {
		// AES under DJI's keys (formats §6.2): only the skeleton is readable.
		r.keys.encrypted++
		return
	}
	switch rec.Type {
	case typeOSD, typeHome, typeCustom, typeRCGPS, typeRecover, typeAppGPS, typeComponentSerial, typeKeyStorage:
	default:
		return
	}
	c := rec.Payload
	if scrambled {
		if cap(r.scratch) < len(c) {
			// Grows to at most one u16-length payload; small files stay small.
			r.scratch = make([]byte, max(len(c), 4096))
		}
		c = descramble(r.scratch[:cap(r.scratch)], rec.Payload, rec.Key)
	}
	switch rec.Type {
	case typeOSD:
		r.osd(rec, c)
	case typeHome:
		r.homeRecord(rec, c)
	case typeCustom:
		r.custom(c)
	case typeRCGPS:
		r.rcGPS(rec, c)
	case typeAppGPS:
		r.appGPS(rec, c)
	case typeRecover:
		r.recover(c)
	case typeComponentSerial:
		r.componentSerial(c)
	case typeKeyStorage:
		r.keyStorage(rec, c)
	}
}

// short counts a record too short for its layout; one note per type.
func (r *run) short(rec record, name string, n, want int) {
	r.sink.Count("records_short", 1)
	if r.shortNoted[rec.Type] {
		return
	}
	r.shortNoted[rec.Type] = true
	r.note(decoders.Warning, decoders.CodeShortRecord, rec.Offset, r.locator(rec),
		fmt.Sprintf("offset %d: %s record holds %d content bytes, its layout needs %d; skipped (further ones counted only)", rec.Offset, name, n, want), nil)
}

// walkNotes reports the damage the walker met and the record counts.
func (r *run) walkNotes(k *walker) {
	var total int64
	for t, n := range r.counts {
		if n == 0 {
			continue
		}
		total += n
		r.sink.Count("records_"+typeName(byte(t)), n)
	}
	r.sink.Count("records", total)
	r.sink.Count("records_bad_check", int64(k.badCheck))
	if k.skipped > 0 {
		r.sink.Count("bytes_skipped", k.skipped)
	}
	if r.keys.encrypted > 0 {
		r.sink.Count("records_encrypted", r.keys.encrypted)
	}
	for _, off := range k.badChecks {
		r.note(decoders.Warning, decoders.CodeBadCheck, off, "record @ 0x"+strconv.FormatInt(off, 16),
			fmt.Sprintf("offset %d: record check byte does not match its seed; record skipped", off), nil)
	}
	if n := k.badCheck - len(k.badChecks); n > 0 {
		r.note(decoders.Warning, decoders.CodeBadCheck, -1, "", fmt.Sprintf("%d more records with a wrong check byte skipped", n), nil)
	}
	for _, j := range k.runs {
		r.note(decoders.Warning, decoders.CodeJunk, j.Offset, "@ 0x"+strconv.FormatInt(j.Offset, 16),
			fmt.Sprintf("offset %d: %d bytes do not frame as records; skipped to the next valid record", j.Offset, j.Len), nil)
	}
	if k.runsLost > 0 {
		r.note(decoders.Warning, decoders.CodeJunk, -1, "", fmt.Sprintf("%d more damaged stretches skipped", k.runsLost), nil)
	}
	// The file was cut when it ends where more must follow: details named past its end (v≤11),
	// or no end-of-records marker (v12+) in a file that was finished (v13+: its prefix names
	// where the records start; an app that never finished the file leaves 0 there).
	cut := r.recEnd >= r.in.Size && (r.detBeyond || r.noMarker && (r.p.version == 12 || r.p.word0 != 0))
	switch k.endedAt {
	case "truncated":
		loc := "record @ 0x" + strconv.FormatInt(k.cutAt, 16)
		have := fmt.Sprintf("%d of its %d bytes present", k.cutHave, k.cutNeed)
		if k.cutNeed == 0 {
			have = fmt.Sprintf("its %d-byte header cut after %d", k.hlen, k.cutHave)
		}
		if r.recEnd >= r.in.Size {
			r.note(decoders.Warning, decoders.CodeTruncated, k.cutAt, loc,
				fmt.Sprintf("offset %d: the file ends at byte %d inside a record (type %d) that starts at byte %d, %s; decoding stopped there", k.cutAt, r.in.Size, k.cutType, k.cutAt, have), nil)
		} else {
			// The file goes on past the records region: the record is longer than the region
			// holds, not cut by the end of the file.
			r.note(decoders.Warning, decoders.CodeTooLarge, k.cutAt, loc,
				fmt.Sprintf("offset %d: a record (type %d) declares %d bytes, over the %d left before the end of the records at byte %d; decoding stopped there", k.cutAt, k.cutType, k.cutNeed, k.cutHave, r.recEnd), nil)
		}
	case "tail":
		r.imgStart = -1
		r.note(decoders.Info, decoders.CodeRecordsEnd, k.w.offset(), "", fmt.Sprintf("offset %d: records end at the marker or first picture (end found by walking, the details being unusable)", k.w.offset()), nil)
		if cut {
			r.note(decoders.Warning, decoders.CodeTruncated, k.w.offset(), "after records",
				fmt.Sprintf("offset %d: the file ends at byte %d inside the marker, pictures and details that follow the records from byte %d", k.w.offset(), r.in.Size, k.w.offset()), nil)
		}
	case "":
		if cut {
			r.note(decoders.Warning, decoders.CodeTruncated, r.in.Size, "end of file",
				fmt.Sprintf("offset %d: the file ends at byte %d right after a complete record: the end-of-records marker, pictures and details that follow the records are missing", r.in.Size, r.in.Size), nil)
		}
	}
	if !r.endKnown && k.endedAt == "" && r.recEnd < r.in.Size {
		r.note(decoders.Info, decoders.CodeRecordsEnd, r.recEnd, "", fmt.Sprintf("offset %d: records end at the details offset", r.recEnd), nil)
	}
}

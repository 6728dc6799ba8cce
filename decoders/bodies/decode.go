package bodies

import (
	"context"
	"strconv"
	"strings"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/jsonpos"
	"droneaudit/decoders/objects"
	"droneaudit/geo"
)

// Config says what Decode runs and how far.
type Config struct {
	// Files are the run's file decoders, in registry order: an object one of them sniffs is
	// decoded like a file on disk.
	Files []decoders.FileDecoder
	// MaxFixes bounds the JSON and form positions of one object (a file decoder's are not bounded:
	// a flight record holds a whole track).
	MaxFixes int
	// Time is given to the JSON, form and picture fixes: when the message was seen.
	Time time.Time
	// Extract, if set, is the folder each object is written to (objects.Extract), when the body
	// is whole: the caller leaves it empty for a body cut short.
	Extract string
}

// Searcher is implemented by a sink that searches bytes for known values (the audit's
// known-value search, which reads every flow's bytes as they travel). Decode hands it only the
// objects whose bytes differ from those on the wire (a content coding or a part's transfer
// encoding undone), after their structural positions, so that nothing is searched twice: the
// search opens base64, hex and percent-encoded runs of the wire bytes itself.
type Searcher interface {
	SearchDecoded(ev geo.Evidence, b []byte)
}

// Decode reports the positions every object of the body holds. ev is the evidence of the
// message: its input, locator, offset, channel, network, request, and in Message what carried it
// ("POST /upload"). Each fix gets ev with the object, and the offset in the decoded body, added
// to its locator and message. What the file decoders note is passed on; a decoder's error
// becomes a note.
func (o *Opened) Decode(ctx context.Context, cfg Config, ev geo.Evidence, sink decoders.Sink) {
	o.DecodeWith(ctx, cfg, func() geo.Evidence { return ev }, sink)
}

// DecodeWith is Decode with the message's evidence made by evidence, called once if anything is
// reported: most bodies hold no position, and the evidence of a message costs a few strings.
func (o *Opened) DecodeWith(ctx context.Context, cfg Config, evidence func() geo.Evidence, sink decoders.Sink) {
	var msgEv geo.Evidence
	evMade := false
	ev := func() *geo.Evidence {
		if !evMade {
			msgEv, evMade = evidence(), true
		}
		return &msgEv
	}
	if cfg.MaxFixes <= 0 {
		cfg.MaxFixes = 64
	}
	for _, n := range o.Notes {
		n.Locator = join(ev().Locator, n.Locator)
		n.Message = ev().Message + " body: " + n.Message
		sink.Note(n)
	}
	srch, _ := sink.(Searcher)
	if len(o.Fields) > 0 {
		// The body, not the fields: FindForm reads the pairs itself, as for a query string.
		if pos := jsonpos.FindForm(strings.TrimSpace(string(o.Body)), geo.RoleOther, cfg.MaxFixes); len(pos) > 0 {
			emitJSON(sink, cfg, *ev(), "form body", pos)
		}
	}
	for i := range o.Objects {
		ob := &o.Objects[i]
		// The object's evidence is made when something is reported of it (most bodies hold no
		// position).
		var oev geo.Evidence
		made := false
		objEv := func() geo.Evidence {
			if !made {
				oev, made = *ev(), true
				oev.Locator = join(ev().Locator, ob.Where+" at decoded body byte "+strconv.FormatInt(ob.Offset, 10))
			}
			return oev
		}
		if cfg.Extract != "" && o.Complete && len(ob.Data) > 0 {
			if _, err := objects.Extract(cfg.Extract, ob.Data); err != nil {
				sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeNotWritten, Locator: objEv().Locator, Offset: ev().Offset,
					Message: ev().Message + " " + ob.Where + ": not extracted: " + err.Error()})
			}
		}
		switch {
		case ob.Kind == objects.KindJSON || (len(o.Fields) == 0 && jsonpos.Looks(ob.Data)):
			if len(ob.Data) <= jsonpos.MaxDocument {
				if pos, err := jsonpos.Find(ob.Data, geo.RoleOther, cfg.MaxFixes); err == nil && len(pos) > 0 {
					emitJSON(sink, cfg, objEv(), "json "+ob.Where, pos)
				}
			}
		case ob.Kind == objects.KindJPEG:
			pos, notes := objects.ImagePositions(ob.Data)
			for _, n := range notes {
				n.Locator = objEv().Locator
				sink.Note(n)
			}
			for _, p := range pos {
				e := objEv()
				e.Message = ev().Message + " jpeg " + ob.Where + " " + p.Source
				f := p.Fix(e)
				f.Time = cfg.Time
				if f.Valid() {
					sink.Fix(f)
				}
			}
		}
		if d := fileDecoder(cfg.Files, ob); d != nil {
			in := decoders.Input{Path: ev().Input, SHA256: ev().SHA256}
			fs := &fileSink{Sink: sink, ev: objEv()}
			if _, err := objects.DecodeFile(ctx, []decoders.FileDecoder{d}, in, ob.Data, fs); err != nil {
				sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Locator: objEv().Locator, Offset: ev().Offset,
					Message: ev().Message + " " + ob.Where + ": " + d.Name() + ": " + err.Error()})
			}
		}
		if srch != nil && ob.Recoded && len(ob.Data) > 0 {
			// After the structural positions, which the search then knows and does not repeat.
			e := objEv()
			e.Locator = join(e.Locator, "decoded ("+strings.Join(o.Applied, "+")+")")
			srch.SearchDecoded(e, ob.Data)
		}
	}
}

func emitJSON(sink decoders.Sink, cfg Config, ev geo.Evidence, where string, pos []jsonpos.Position) {
	prefix := ev.Message + " " + where + " "
	for _, q := range pos {
		e := ev
		e.Message = q.Label(prefix)
		f, _ := q.Fix(e)
		f.Time = cfg.Time
		if f.Valid() {
			sink.Fix(f)
		}
	}
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ", " + b
}

// fileSink turns what a file decoder reports of an object held in memory into what the message
// carried: the fix keeps its decoder, time, role and values, and takes the message's evidence
// (capture, flow, request, channel), its locator naming the object and the decoder's own locator
// in it, which gives the offset in the object.
type fileSink struct {
	decoders.Sink
	ev geo.Evidence
}

func (s *fileSink) Fix(f geo.Fix) {
	d := f.Evidence
	e := s.ev
	e.Decoder, e.Encoding, e.Note = d.Decoder, d.Encoding, d.Note
	e.Locator = join(s.ev.Locator, d.Decoder+" "+join(d.Locator, "object byte "+strconv.FormatInt(d.Offset, 10)))
	e.Message = join(s.ev.Message, d.Message)
	f.Evidence = e
	s.Sink.Fix(f)
}

func (s *fileSink) Note(n decoders.Note) {
	n.Locator = join(s.ev.Locator, join(n.Locator, "object byte "+strconv.FormatInt(n.Offset, 10)))
	n.Offset = s.ev.Offset
	s.Sink.Note(n)
}

// Exposure drops what a reader of an on-device file would learn: the object is not on a device.
func (s *fileSink) Exposure(decoders.Exposure) {}

// objectSniff is how much of an object the file decoders' Sniff is given to pick one: every
// format they read shows itself in its first records (a flight record's header, DataFlash FMT
// messages, the ULog magic, a few MAVLink or DUML frames, the first SRT block, CSV header or XML
// root), and sniffing 64 KiB (a MAVLink tlog walk over the whole head) costs milliseconds an
// object (about 0.1 ms a KiB of random bytes), which a capture of thousands of bodies would pay
// for nothing. The decoder picked sniffs the whole head again in DecodeFile.
const objectSniff = 1 << 10

// fileDecoder picks the file decoder of an object as the engine picks one for a file on disk,
// from a shorter head, and not for the kinds no file decoder reads (JSON, pictures, compressed
// data: the steps above open them).
func fileDecoder(files []decoders.FileDecoder, ob *Object) decoders.FileDecoder {
	switch ob.Kind {
	case objects.KindEmpty, objects.KindJSON, objects.KindJPEG, objects.KindPNG, objects.KindGzip, objects.KindZstd:
		return nil
	}
	return objects.FindFileDecoder(files, ob.Data[:min(len(ob.Data), objectSniff)])
}

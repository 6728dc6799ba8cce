// Package gpx decodes track and place files: GPX 1.0/1.1 (trk/trkpt, rte/rtept, wpt), KML
// (Placemark Point, LineString, Polygon, gx:Track) and KMZ, the zip that carries a KML (and the
// WPML waypoint files of DJI Pilot 2 missions, which are KML too).
//
// Sources: GPX 1.1 schema (topografix.com/GPX/1/1), OGC KML 2.2 (OGC 07-147r2) and Google's
// gx extension (developers.google.com/kml/documentation/kmlreference#gxtrack), the zip format
// of PKWARE's APPNOTE.TXT for KMZ. Parsing streams with encoding/xml's Decoder.Token, bounded by
// a per-token byte budget and a nesting limit so that no input can make it buffer without end.
package gpx

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"droneaudit/decoders"
)

// Decoder is the FileDecoder for GPX, KML and KMZ.
type Decoder struct {
	// Budget bounds the bytes inflated from KMZ entries, shared by every input decoded with it
	// (and by any other decoder handed the same budget). Nil draws on
	// decoders.DefaultExpansionBudget, one per process.
	Budget *decoders.ExpansionBudget
}

// New returns the GPX/KML/KMZ decoder.
func New() Decoder { return Decoder{} }

// Name implements decoders.FileDecoder.
func (Decoder) Name() string { return "gpx" }

var (
	bom      = []byte{0xEF, 0xBB, 0xBF}
	zipMagic = []byte("PK\x03\x04")
)

// Sniff implements decoders.FileDecoder: an XML document whose root is <gpx> or <kml>, or a zip
// whose leading entries include a .kml file.
func (Decoder) Sniff(head []byte) bool {
	if bytes.HasPrefix(head, zipMagic) {
		return zipHasKML(head)
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	h := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	if len(h) == 0 || h[0] != '<' {
		return false
	}
	return rootIs(h, "gpx") || rootIs(h, "kml")
}

// rootIs finds the first element start tag (after the declaration, comments and a DOCTYPE) and
// compares its local name.
func rootIs(h []byte, name string) bool {
	for len(h) > 0 {
		i := bytes.IndexByte(h, '<')
		if i < 0 || i+1 >= len(h) {
			return false
		}
		h = h[i+1:]
		switch h[0] {
		case '?', '!':
			// Declaration, comment or DOCTYPE: skip to its end.
			end := []byte(">")
			if bytes.HasPrefix(h, []byte("!--")) {
				end = []byte("-->")
			}
			j := bytes.Index(h, end)
			if j < 0 {
				return false
			}
			h = h[j+len(end):]
			continue
		}
		j := 0
		for j < len(h) && h[j] != ' ' && h[j] != '>' && h[j] != '/' && h[j] != '\t' && h[j] != '\r' && h[j] != '\n' {
			j++
		}
		tag := string(h[:j])
		if k := strings.IndexByte(tag, ':'); k >= 0 {
			tag = tag[k+1:]
		}
		return tag == name
	}
	return false
}

// zipHasKML looks for a .kml or .wpml name in the zip headers present in head: local file
// headers (APPNOTE 4.3.7: name length at offset 26, name at 30) and, in small files, central
// directory headers (4.3.12: name length at 28, name at 46). Headers are found by signature
// because writers that stream (data descriptors, flag bit 3) leave no sizes to walk by.
func zipHasKML(head []byte) bool {
	for _, h := range []struct {
		sig         string
		lenAt, name int
	}{{"PK\x03\x04", 26, 30}, {"PK\x01\x02", 28, 46}} {
		rest := head
		for {
			i := bytes.Index(rest, []byte(h.sig))
			if i < 0 || i+h.name > len(rest) {
				break
			}
			n := int(rest[i+h.lenAt]) | int(rest[i+h.lenAt+1])<<8
			if i+h.name+n <= len(rest) && isKMLName(string(rest[i+h.name:i+h.name+n])) {
				return true
			}
			rest = rest[i+4:]
		}
	}
	return false
}

func isKMLName(n string) bool {
	n = strings.ToLower(n)
	return strings.HasSuffix(n, ".kml") || strings.HasSuffix(n, ".wpml")
}

// Decode implements decoders.FileDecoder.
func (d Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	if in.Size == 0 {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: empty file (0 bytes)", in.Path)})
		return nil
	}
	head := make([]byte, min(in.Size, 4))
	if _, err := in.R.ReadAt(head, 0); err != nil {
		return fmt.Errorf("%s: read at byte 0: %w", in.Path, err)
	}
	ex := newExposure(in)
	if bytes.Equal(head, zipMagic) {
		budget := d.Budget
		if budget == nil {
			budget = decoders.DefaultExpansionBudget
		}
		err := decodeKMZ(ctx, in, sink, ex, budget)
		ex.report(sink)
		return err
	}
	p := newParser(in, sink, "", 0, ex)
	err := p.run(ctx, in.Reader())
	ex.report(sink)
	return err
}

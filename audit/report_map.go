package audit

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"droneaudit/geo"
)

// The map of the HTML report is an SVG drawn from the data alone: no tiles, no request. It is in
// Web Mercator (EPSG:3857's formula on the sphere), fitted to the positions it shows: the tracks,
// the observations behind the findings and the zones they touch (all zones when there are no
// positions). North is up; the scale bar is true at the map's middle latitude.

// Map sizes, in SVG user units (pixels at 100 %).
const (
	mapW, mapH = 960, 600
	mapPad     = 30
)

// svgMap is what the template draws.
type svgMap struct {
	W, H   int
	Zones  []svgZone
	Tracks []svgLine
	Points []svgPoint
	Scale  svgScale
}

type svgZone struct {
	D, Class, Title string
}

type svgLine struct {
	Points, Title string
}

// svgPoint is one observation behind a finding: Class is its channel (network, broadcast,
// on-device); Team marks a broadcast team position, drawn as a square.
type svgPoint struct {
	X, Y         string
	Class, Title string
	Team         bool
}

type svgScale struct {
	X1, X2, Y, TextX string
	Label            string
}

// mercator projects a position onto the unit Web Mercator plane: x east, y north, in radians.
func mercator(lon, lat float64) (x, y float64) {
	lat = math.Max(-85.05112878, math.Min(85.05112878, lat))
	return lon * math.Pi / 180, math.Log(math.Tan(math.Pi/4 + lat*math.Pi/360))
}

// projector fits a bounding box in the Mercator plane into the map.
type projector struct {
	minX, maxY, k float64
	offX, offY    float64
}

func (p *projector) xy(lon, lat float64) (float64, float64) {
	x, y := mercator(lon, lat)
	return p.offX + (x-p.minX)*p.k, p.offY + (p.maxY-y)*p.k
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// mapBounds gathers what the map must show.
type mapBounds struct {
	minX, minY, maxX, maxY float64
	n                      int
}

func (b *mapBounds) add(lon, lat float64) {
	x, y := mercator(lon, lat)
	if b.n == 0 {
		b.minX, b.maxX, b.minY, b.maxY = x, x, y, y
	}
	b.minX, b.maxX, b.minY, b.maxY = math.Min(b.minX, x), math.Max(b.maxX, x), math.Min(b.minY, y), math.Max(b.maxY, y)
	b.n++
}

// zoneRings returns the rings of a zone as drawn in the GeoJSON layer (a point zone as its
// circle), each ring a list of [lon, lat].
func zoneRings(zs *geo.Zones, z *geo.Zone) [][][]float64 {
	switch c := zoneFeature(zs, z).Geometry.Coordinates.(type) {
	case [][][]float64:
		return c
	case [][][][]float64:
		var out [][][]float64
		for _, p := range c {
			out = append(out, p...)
		}
		return out
	}
	return nil
}

// mapPoint is one observation behind a finding.
type mapPoint struct {
	f *Finding
	o *Observation
}

// findingPoints are the first and last observation of each finding that has positions.
func findingPoints(fs []*Finding) []mapPoint {
	var out []mapPoint
	for _, f := range fs {
		if f.First == nil {
			continue
		}
		out = append(out, mapPoint{f, f.First})
		if f.Last != nil && f.Last != f.First && (f.Last.Lat != f.First.Lat || f.Last.Lon != f.First.Lon) {
			out = append(out, mapPoint{f, f.Last})
		}
	}
	return out
}

// buildMap draws the document's map; nil when there is nothing to draw.
func (d *Document) buildMap() *svgMap {
	zs := d.meta.Zones
	var b mapBounds
	for _, t := range d.Tracks {
		for _, p := range t.Points {
			b.add(p[0], p[1])
		}
	}
	touched := map[string]bool{}
	pts := findingPoints(d.Findings)
	for _, p := range pts {
		b.add(p.o.Lon, p.o.Lat)
		touched[p.f.Zone] = true
	}
	if zs != nil {
		for i := range zs.Zones {
			z := &zs.Zones[i]
			if b.n > 0 && !touched[z.Name] {
				continue
			}
			for _, r := range zoneRings(zs, z) {
				for _, q := range r {
					b.add(q[0], q[1])
				}
			}
		}
	}
	if b.n == 0 {
		return nil
	}
	// At least about 1 km across, so that a single point has a scale.
	const minSpan = 1000.0 / 6378137
	if w := b.maxX - b.minX; w < minSpan {
		b.minX, b.maxX = b.minX-(minSpan-w)/2, b.maxX+(minSpan-w)/2
	}
	if h := b.maxY - b.minY; h < minSpan {
		b.minY, b.maxY = b.minY-(minSpan-h)/2, b.maxY+(minSpan-h)/2
	}
	k := math.Min(float64(mapW-2*mapPad)/(b.maxX-b.minX), float64(mapH-2*mapPad)/(b.maxY-b.minY))
	p := &projector{minX: b.minX, maxY: b.maxY, k: k,
		offX: (mapW - (b.maxX-b.minX)*k) / 2, offY: (mapH - (b.maxY-b.minY)*k) / 2}
	m := &svgMap{W: mapW, H: mapH}
	if zs != nil {
		for i := range zs.Zones {
			z := &zs.Zones[i]
			var sb strings.Builder
			for _, r := range zoneRings(zs, z) {
				for j, q := range r {
					x, y := p.xy(q[0], q[1])
					if j == 0 {
						sb.WriteString("M")
					} else {
						sb.WriteString(" L")
					}
					sb.WriteString(num(x) + " " + num(y))
				}
				sb.WriteString(" Z ")
			}
			m.Zones = append(m.Zones, svgZone{D: strings.TrimSpace(sb.String()), Class: "zone " + string(z.Sensitivity),
				Title: fmt.Sprintf("zone %s (%s)", z.Name, z.Sensitivity)})
		}
	}
	for _, t := range d.Tracks {
		var sb strings.Builder
		for i, q := range t.Points {
			x, y := p.xy(q[0], q[1])
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(num(x) + "," + num(y))
		}
		m.Tracks = append(m.Tracks, svgLine{Points: sb.String(), Title: fmt.Sprintf("track: %s %s, %d positions", t.Input, t.Decoder, t.Fixes)})
	}
	for _, q := range pts {
		x, y := p.xy(q.o.Lon, q.o.Lat)
		title := fmt.Sprintf("%s %s, %s", q.f.ID, q.f.Kind, q.f.Channel)
		if q.f.Zone != "" {
			title += ", zone " + q.f.Zone
		}
		m.Points = append(m.Points, svgPoint{X: num(x), Y: num(y), Class: "pt " + string(q.f.Channel), Title: title,
			Team: q.f.Kind == KindBroadcastPosition})
	}
	// The scale bar: a round length near a fifth of the map's width, true at the middle latitude.
	midLat := (2*math.Atan(math.Exp((b.minY+b.maxY)/2)) - math.Pi/2)
	mPerPx := 6378137 * math.Cos(midLat) / k
	target := mPerPx * mapW / 5
	step := math.Pow(10, math.Floor(math.Log10(target)))
	length := step
	for _, f := range []float64{2, 5, 10} {
		if step*f <= target {
			length = step * f
		}
	}
	px := length / mPerPx
	m.Scale = svgScale{X1: num(mapPad), X2: num(mapPad + px), Y: num(mapH - mapPad/2), TextX: num(mapPad + px + 6), Label: distText(length)}
	return m
}

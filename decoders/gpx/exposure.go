package gpx

import (
	"fmt"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// exposure gathers, across the documents of one file, what a reader of it learns.
type exposure struct {
	in         decoders.Input
	format     string
	creator    string
	positions  int64
	noFix, bad int64
	placemarks int64
	byRole     map[geo.Role]int64
	first      map[geo.Role]*geo.Fix
	names      []string
}

func newExposure(in decoders.Input) *exposure {
	return &exposure{in: in, byRole: map[geo.Role]int64{}, first: map[geo.Role]*geo.Fix{}}
}

func (e *exposure) fix(f *geo.Fix) {
	e.positions++
	e.byRole[f.Role]++
	if e.first[f.Role] == nil {
		c := *f
		e.first[f.Role] = &c
	}
}

// name keeps the first ten waypoint and placemark names: they often name the places.
func (e *exposure) name(n string) {
	if len(e.names) < 10 && n != "" {
		e.names = append(e.names, n)
	}
}

func (e *exposure) report(sink decoders.Sink) {
	sink.Count("positions", e.positions)
	sink.Count("no_fix", e.noFix)
	sink.Count("bad_values", e.bad)
	sink.Count("placemarks", e.placemarks)
	if e.positions == 0 && len(e.names) == 0 {
		return
	}
	attrs := map[string]string{"positions": strconv.FormatInt(e.positions, 10)}
	var what []string
	var ref *geo.Fix
	for _, r := range []geo.Role{geo.RoleAircraft, geo.RoleHome, geo.RoleTakeoff, geo.RolePilot, geo.RoleWaypoint} {
		f := e.first[r]
		if f == nil {
			continue
		}
		if ref == nil {
			ref = f
		}
		// Keys as the srt and csvlog decoders name them.
		key := strings.ReplaceAll(string(r), "-", "_") + "_point"
		switch r {
		case geo.RoleAircraft:
			key = "first_position"
		case geo.RoleWaypoint:
			key = "first_waypoint"
		}
		attrs[key] = strconv.FormatFloat(f.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(f.Lon, 'f', -1, 64)
		what = append(what, fmt.Sprintf("%d %s positions", e.byRole[r], r))
		if !f.Time.IsZero() && attrs["start_time_utc"] == "" {
			attrs["start_time_utc"] = f.Time.Format("2006-01-02 15:04:05")
		}
	}
	if e.creator != "" {
		attrs["creator"] = e.creator
		what = append(what, "the app that wrote it")
	}
	if len(e.names) > 0 {
		attrs["names"] = strings.Join(e.names, "; ")
		what = append(what, "place names")
	}
	x := decoders.Exposure{Offset: -1, Values: attrs,
		Message: fmt.Sprintf("%s: a reader of this %s file learns %s", e.in.Path, e.format, strings.Join(what, ", "))}
	if ref != nil {
		x.Locator, x.Offset = ref.Evidence.Locator, ref.Evidence.Offset
	}
	sink.Exposure(x)
}

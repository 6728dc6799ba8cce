package mavlink

import (
	"fmt"
	"math"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"droneaudit/geo"
)

// fixes collects the positions of one frame, each with the frame's evidence and the precision of
// the encoding it was read from.
type fixes struct {
	ev  geo.Evidence
	out []geo.Fix
}

func (x *fixes) add(fx geo.Fix) { x.out = append(x.out, fx) }

// e7 is a position in int32 degrees × 1e7, the encoding of most position messages.
func (x *fixes) e7(lat, lon int32, role geo.Role) geo.Fix {
	ev := x.ev
	ev.Encoding = "int32 degE7"
	return geo.Fix{Lat: degE7(lat), Lon: degE7(lon), Role: role, PrecisionM: geo.PrecisionDegE7, Evidence: ev}
}

// f32 is a position in float32 degrees (MISSION_ITEM, FENCE_POINT), whose precision depends on
// the magnitude.
func (x *fixes) f32(lat, lon float32, role geo.Role) geo.Fix {
	ev := x.ev
	ev.Encoding = "float32 degrees"
	p := math.Max(geo.PrecisionFloat32Deg(float64(lat)), geo.PrecisionFloat32Deg(float64(lon)))
	return geo.Fix{Lat: float64(lat), Lon: float64(lon), Role: role, PrecisionM: p, Evidence: ev}
}

// valid drops the "no fix" values: (0,0), INT32_MAX sentinels, out-of-range numbers.
func (x *fixes) valid() []geo.Fix {
	kept := x.out[:0]
	for _, fx := range x.out {
		if fx.Valid() {
			kept = append(kept, fx)
		}
	}
	return kept
}

// withAlt sets the altitude unless it is NaN or infinite, which float fields use for "unknown".
func withAlt(fx geo.Fix, alt float64, ref string) geo.Fix {
	if !math.IsNaN(alt) && !math.IsInf(alt, 0) {
		fx.HasAlt, fx.AltM, fx.AltRef = true, alt, ref
	}
	return fx
}

func degE7(v int32) float64 { return float64(v) / 1e7 }

// mm converts the int32 millimetre altitudes of the GPS and position messages to metres.
func mm(v int32) float64 { return float64(v) / 1000 }

// altRef names the altitude reference of a MAV_FRAME whose x and y are latitude and longitude,
// and is "" for every other frame (local, body, mission-relative).
func altRef(f common.MAV_FRAME) string {
	switch f {
	case common.MAV_FRAME_GLOBAL, common.MAV_FRAME_GLOBAL_INT:
		return "msl"
	case common.MAV_FRAME_GLOBAL_RELATIVE_ALT, common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT:
		return "take-off"
	case common.MAV_FRAME_GLOBAL_TERRAIN_ALT, common.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT:
		return "ground"
	}
	return ""
}

// globalFrame reports whether a MAV_FRAME's x and y are latitude and longitude (§5,
// MISSION_ITEM_INT): exactly the frames with an altitude reference.
func globalFrame(f common.MAV_FRAME) bool { return altRef(f) != "" }

var missionTypes = map[common.MAV_MISSION_TYPE]string{
	common.MAV_MISSION_TYPE_MISSION: "mission",
	common.MAV_MISSION_TYPE_FENCE:   "fence",
	common.MAV_MISSION_TYPE_RALLY:   "rally",
}

// missionType names the list a mission item belongs to.
func missionType(t common.MAV_MISSION_TYPE) string {
	if s, ok := missionTypes[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

package mavlink

import (
	"fmt"
	"math"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"droneaudit/geo"
)

// positionIDs are the messages that carry positions (mavlink-dataflash-ulog.md §5). Only these are
// decoded: the framer checks every frame, but reflection-based decoding is kept off the hot path.
var positionIDs = map[uint32]bool{
	24: true, 33: true, 39: true, 49: true, 73: true, 75: true, 124: true, 160: true, 175: true,
	178: true, 180: true, 182: true, 242: true, 243: true, 263: true, 12901: true, 12904: true, 12919: true,
}

// IsPosition reports whether frames with this id can carry a position.
func IsPosition(id uint32) bool { return positionIDs[id] }

// globalFrames are the MAV_FRAME values whose x/y are latitude/longitude (§5, MISSION_ITEM_INT).
func globalFrame(f common.MAV_FRAME) bool {
	switch f {
	case 0, 3, 5, 6, 10, 11:
		return true
	}
	return false
}

var missionTypes = map[common.MAV_MISSION_TYPE]string{0: "mission", 1: "fence", 2: "rally"}

func degE7(v int32) float64 { return float64(v) / 1e7 }

// altitude sentinels and conversions
func mm(v int32) float64 { return float64(v) / 1000 }

// Positions decodes a verified frame and returns the positions it carries, filled in from ev.
// (0,0) and other "unknown" values give no fix.
func Positions(f *Frame, ev geo.Evidence) ([]geo.Fix, error) {
	if !f.Verified || !positionIDs[f.MsgID] {
		return nil, nil
	}
	info := lookup(f.MsgID)
	// The capacity limit matters: gomavlib zero-extends a short v2 payload with append, which
	// would otherwise write into the input buffer behind the payload.
	p := f.Payload[:len(f.Payload):len(f.Payload)]
	msg, err := info.rw.Read(&message.MessageRaw{ID: f.MsgID, Payload: p}, f.V2)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.name, err)
	}
	ev.Message = info.name
	e7 := func(lat, lon int32, role geo.Role) geo.Fix {
		ev := ev
		ev.Encoding = "int32 degE7"
		return geo.Fix{Lat: degE7(lat), Lon: degE7(lon), Role: role, PrecisionM: geo.PrecisionDegE7, Evidence: ev}
	}
	f32 := func(lat, lon float32, role geo.Role) geo.Fix {
		ev := ev
		ev.Encoding = "float32 degrees"
		p := math.Max(geo.PrecisionFloat32Deg(float64(lat)), geo.PrecisionFloat32Deg(float64(lon)))
		return geo.Fix{Lat: float64(lat), Lon: float64(lon), Role: role, PrecisionM: p, Evidence: ev}
	}
	withAlt := func(fx geo.Fix, alt float64, ref string) geo.Fix {
		if !math.IsNaN(alt) && !math.IsInf(alt, 0) {
			fx.HasAlt, fx.AltM, fx.AltRef = true, alt, ref
		}
		return fx
	}
	var out []geo.Fix
	switch m := msg.(type) {
	case *ardupilotmega.MessageGlobalPositionInt:
		out = append(out, withAlt(e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
	case *ardupilotmega.MessageGpsRawInt:
		// fix_type 0/1 (no GPS, no fix): the coordinates are not a measurement (SITL and real
		// receivers send placeholders), so they are not reported as a position.
		if m.FixType >= 2 {
			out = append(out, withAlt(e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
		}
	case *ardupilotmega.MessageGps2Raw:
		if m.FixType >= 2 {
			out = append(out, withAlt(e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
		}
	case *ardupilotmega.MessageHomePosition:
		out = append(out, withAlt(e7(m.Latitude, m.Longitude, geo.RoleHome), mm(m.Altitude), "msl"))
	case *ardupilotmega.MessageSetHomePosition:
		out = append(out, withAlt(e7(m.Latitude, m.Longitude, geo.RoleHome), mm(m.Altitude), "msl"))
	case *ardupilotmega.MessageGpsGlobalOrigin:
		// The EKF origin: where the vehicle's navigation started, normally the take-off point.
		out = append(out, withAlt(e7(m.Latitude, m.Longitude, geo.RoleTakeoff), mm(m.Altitude), "msl"))
	case *ardupilotmega.MessageMissionItemInt:
		if globalFrame(m.Frame) {
			fx := withAlt(e7(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s seq %d cmd %d (%s)", info.name, m.Seq, m.Command, missionType(m.MissionType))
			out = append(out, fx)
		}
	case *ardupilotmega.MessageMissionItem:
		if globalFrame(m.Frame) {
			fx := withAlt(f32(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s seq %d cmd %d (%s)", info.name, m.Seq, m.Command, missionType(m.MissionType))
			out = append(out, fx)
		}
	case *ardupilotmega.MessageCommandInt:
		if globalFrame(m.Frame) && m.X != math.MaxInt32 {
			fx := withAlt(e7(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s cmd %d", info.name, m.Command)
			out = append(out, fx)
		}
	case *ardupilotmega.MessageFencePoint:
		fx := f32(m.Lat, m.Lng, geo.RoleWaypoint)
		fx.Evidence.Message = fmt.Sprintf("%s %d/%d", info.name, m.Idx, m.Count)
		out = append(out, fx)
	case *ardupilotmega.MessageRallyPoint:
		fx := withAlt(e7(m.Lat, m.Lng, geo.RoleWaypoint), float64(m.Alt), "take-off")
		fx.Evidence.Message = fmt.Sprintf("%s %d/%d", info.name, m.Idx, m.Count)
		out = append(out, fx)
	case *ardupilotmega.MessageAhrs2:
		out = append(out, withAlt(e7(m.Lat, m.Lng, geo.RoleAircraft), float64(m.Altitude), "msl"))
	case *ardupilotmega.MessageAhrs3:
		out = append(out, withAlt(e7(m.Lat, m.Lng, geo.RoleAircraft), float64(m.Altitude), "msl"))
	case *ardupilotmega.MessageCameraFeedback:
		out = append(out, withAlt(e7(m.Lat, m.Lng, geo.RolePhoto), float64(m.AltMsl), "msl"))
	case *ardupilotmega.MessageCameraImageCaptured:
		out = append(out, withAlt(e7(m.Lat, m.Lon, geo.RolePhoto), mm(m.Alt), "msl"))
	case *ardupilotmega.MessageOpenDroneIdLocation:
		fx := e7(m.Latitude, m.Longitude, geo.RoleAircraft)
		if m.AltitudeGeodetic != -1000 {
			fx = withAlt(fx, float64(m.AltitudeGeodetic), "ellipsoid")
		}
		out = append(out, fx)
	case *ardupilotmega.MessageOpenDroneIdSystem:
		fx := e7(m.OperatorLatitude, m.OperatorLongitude, geo.RolePilot)
		if m.OperatorAltitudeGeo != -1000 {
			fx = withAlt(fx, float64(m.OperatorAltitudeGeo), "ellipsoid")
		}
		out = append(out, fx)
	case *ardupilotmega.MessageOpenDroneIdSystemUpdate:
		fx := e7(m.OperatorLatitude, m.OperatorLongitude, geo.RolePilot)
		if m.OperatorAltitudeGeo != -1000 {
			fx = withAlt(fx, float64(m.OperatorAltitudeGeo), "ellipsoid")
		}
		out = append(out, fx)
	}
	// Drop "no fix" values: (0,0), INT32_MAX sentinels, out-of-range numbers.
	kept := out[:0]
	for _, fx := range out {
		if fx.Valid() {
			kept = append(kept, fx)
		}
	}
	return kept, nil
}

func missionType(t common.MAV_MISSION_TYPE) string {
	if s, ok := missionTypes[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// altRef names the altitude reference of a MAV_FRAME.
func altRef(f common.MAV_FRAME) string {
	switch f {
	case 0, 5:
		return "msl"
	case 3, 6:
		return "take-off"
	case 10, 11:
		return "ground"
	}
	return ""
}

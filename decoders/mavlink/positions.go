package mavlink

import (
	"fmt"
	"math"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"droneaudit/geo"
)

// positionMessages are the messages that carry positions (mavlink-dataflash-ulog.md §5), named by
// gomavlib's types so that their ids come from the dialect. Only these are decoded: the framer
// checks every frame, but gomavlib's reflection-based decoding is kept off the hot path.
var positionMessages = []message.Message{
	&ardupilotmega.MessageGpsRawInt{},
	&ardupilotmega.MessageGlobalPositionInt{},
	&ardupilotmega.MessageMissionItem{},
	&ardupilotmega.MessageGpsGlobalOrigin{},
	&ardupilotmega.MessageMissionItemInt{},
	&ardupilotmega.MessageCommandInt{},
	&ardupilotmega.MessageGps2Raw{},
	&ardupilotmega.MessageFencePoint{},
	&ardupilotmega.MessageRallyPoint{},
	&ardupilotmega.MessageAhrs2{},
	&ardupilotmega.MessageCameraFeedback{},
	&ardupilotmega.MessageAhrs3{},
	&ardupilotmega.MessageHomePosition{},
	&ardupilotmega.MessageSetHomePosition{},
	&ardupilotmega.MessageCameraImageCaptured{},
	&ardupilotmega.MessageOpenDroneIdLocation{},
	&ardupilotmega.MessageOpenDroneIdSystem{},
	&ardupilotmega.MessageOpenDroneIdSystemUpdate{},
}

// IsPosition reports whether frames with this id can carry a position. It runs for every
// verified frame: an array lookup for the ids a v1 frame can carry, the dialect's map above.
func IsPosition(id uint32) bool {
	i := lookup(id)
	return i != nil && i.position
}

// Values the MAVLink definitions give for "not set".
const (
	commandIntUnused = math.MaxInt32 // COMMAND_INT x, y: the command takes no position
	odidAltUnknown   = -1000         // OPEN_DRONE_ID_* altitudes: unknown
)

// Positions decodes a verified frame and returns the positions it carries, filled in from ev.
// (0,0) and other "unknown" values give no fix.
func Positions(f *Frame, ev geo.Evidence) ([]geo.Fix, error) {
	if !f.Verified || !IsPosition(f.MsgID) {
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
	x := fixes{ev: ev}
	// Each message belongs to one of these; the others pass it by.
	x.aircraft(msg)
	x.home(msg)
	x.plan(msg)
	x.photo(msg)
	x.remoteID(msg)
	return x.valid(), nil
}

// aircraft reads the vehicle's own position: the autopilot's estimate, its GPS receivers and
// the secondary attitude and heading estimators.
func (x *fixes) aircraft(msg message.Message) {
	switch m := msg.(type) {
	case *ardupilotmega.MessageGlobalPositionInt:
		x.add(withAlt(x.e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
	case *ardupilotmega.MessageGpsRawInt:
		// Below a 2D fix (no GPS, no fix) the coordinates are not a measurement: SITL and real
		// receivers send placeholders, which are not reported as a position.
		if m.FixType >= common.GPS_FIX_TYPE_2D_FIX {
			x.add(withAlt(x.e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
		}
	case *ardupilotmega.MessageGps2Raw:
		if m.FixType >= common.GPS_FIX_TYPE_2D_FIX {
			x.add(withAlt(x.e7(m.Lat, m.Lon, geo.RoleAircraft), mm(m.Alt), "msl"))
		}
	case *ardupilotmega.MessageAhrs2:
		x.add(withAlt(x.e7(m.Lat, m.Lng, geo.RoleAircraft), float64(m.Altitude), "msl"))
	case *ardupilotmega.MessageAhrs3:
		x.add(withAlt(x.e7(m.Lat, m.Lng, geo.RoleAircraft), float64(m.Altitude), "msl"))
	}
}

// home reads the home point, as reported or as set, and the EKF origin: where the vehicle's
// navigation started, normally the take-off point.
func (x *fixes) home(msg message.Message) {
	switch m := msg.(type) {
	case *ardupilotmega.MessageHomePosition:
		x.add(withAlt(x.e7(m.Latitude, m.Longitude, geo.RoleHome), mm(m.Altitude), "msl"))
	case *ardupilotmega.MessageSetHomePosition:
		x.add(withAlt(x.e7(m.Latitude, m.Longitude, geo.RoleHome), mm(m.Altitude), "msl"))
	case *ardupilotmega.MessageGpsGlobalOrigin:
		x.add(withAlt(x.e7(m.Latitude, m.Longitude, geo.RoleTakeoff), mm(m.Altitude), "msl"))
	}
}

// plan reads the places a vehicle is sent to or kept from: mission items and commands in a
// global frame, fence and rally points. The message names the item, since a plan holds many.
func (x *fixes) plan(msg message.Message) {
	name := x.ev.Message
	switch m := msg.(type) {
	case *ardupilotmega.MessageMissionItemInt:
		if globalFrame(m.Frame) {
			fx := withAlt(x.e7(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s seq %d cmd %d (%s)", name, m.Seq, m.Command, missionType(m.MissionType))
			x.add(fx)
		}
	case *ardupilotmega.MessageMissionItem:
		if globalFrame(m.Frame) {
			fx := withAlt(x.f32(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s seq %d cmd %d (%s)", name, m.Seq, m.Command, missionType(m.MissionType))
			x.add(fx)
		}
	case *ardupilotmega.MessageCommandInt:
		if globalFrame(m.Frame) && m.X != commandIntUnused {
			fx := withAlt(x.e7(m.X, m.Y, geo.RoleWaypoint), float64(m.Z), altRef(m.Frame))
			fx.Evidence.Message = fmt.Sprintf("%s cmd %d", name, m.Command)
			x.add(fx)
		}
	case *ardupilotmega.MessageFencePoint:
		fx := x.f32(m.Lat, m.Lng, geo.RoleWaypoint)
		fx.Evidence.Message = fmt.Sprintf("%s %d/%d", name, m.Idx, m.Count)
		x.add(fx)
	case *ardupilotmega.MessageRallyPoint:
		fx := withAlt(x.e7(m.Lat, m.Lng, geo.RoleWaypoint), float64(m.Alt), "take-off")
		fx.Evidence.Message = fmt.Sprintf("%s %d/%d", name, m.Idx, m.Count)
		x.add(fx)
	}
}

// photo reads where the camera took its pictures.
func (x *fixes) photo(msg message.Message) {
	switch m := msg.(type) {
	case *ardupilotmega.MessageCameraFeedback:
		x.add(withAlt(x.e7(m.Lat, m.Lng, geo.RolePhoto), float64(m.AltMsl), "msl"))
	case *ardupilotmega.MessageCameraImageCaptured:
		x.add(withAlt(x.e7(m.Lat, m.Lon, geo.RolePhoto), mm(m.Alt), "msl"))
	}
}

// remoteID reads the Open Drone ID messages an autopilot hands its Remote ID transmitter: the
// aircraft's position and the operator's, which the transmitter then broadcasts in clear.
func (x *fixes) remoteID(msg message.Message) {
	switch m := msg.(type) {
	case *ardupilotmega.MessageOpenDroneIdLocation:
		x.add(odidAlt(x.e7(m.Latitude, m.Longitude, geo.RoleAircraft), m.AltitudeGeodetic))
	case *ardupilotmega.MessageOpenDroneIdSystem:
		x.add(odidAlt(x.e7(m.OperatorLatitude, m.OperatorLongitude, geo.RolePilot), m.OperatorAltitudeGeo))
	case *ardupilotmega.MessageOpenDroneIdSystemUpdate:
		x.add(odidAlt(x.e7(m.OperatorLatitude, m.OperatorLongitude, geo.RolePilot), m.OperatorAltitudeGeo))
	}
}

// odidAlt adds an Open Drone ID geodetic altitude unless it is the "unknown" value.
func odidAlt(fx geo.Fix, alt float32) geo.Fix {
	if alt == odidAltUnknown {
		return fx
	}
	return withAlt(fx, float64(alt), "ellipsoid")
}

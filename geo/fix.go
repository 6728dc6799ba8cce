// Package geo holds positions and zones: the Fix type that every decoder emits, zone files,
// containment and distance, and the tolerance that comes from the precision of an encoding.
package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"droneaudit/netflow"
)

// Role says what a position is the position of.
type Role string

// The roles of the shared vocabulary (DESIGN.md).
const (
	RoleAircraft   Role = "aircraft"
	RoleHome       Role = "home"
	RoleTakeoff    Role = "take-off"
	RolePilot      Role = "pilot"
	RoleController Role = "remote-controller"
	RoleWaypoint   Role = "waypoint"
	RolePhoto      Role = "photo"
	RoleOther      Role = "other"
)

// Channel says how a position reached the place where it was observed.
type Channel string

// The three channels. Only network and broadcast are off-device: a position observed there has
// left the device.
const (
	ChannelOnDevice  Channel = "on-device"
	ChannelNetwork   Channel = "network"
	ChannelBroadcast Channel = "broadcast"
)

// OffDevice reports whether a position seen on this channel has left the device.
func (c Channel) OffDevice() bool { return c == ChannelNetwork || c == ChannelBroadcast }

// Network describes the flow a position travelled in. Its values are typed; MarshalJSON writes
// the stable report form (addresses and names as strings).
type Network struct {
	FlowUID   string
	Proto     netflow.Proto
	Src, Dst  netip.AddrPort    // the sender and the receiver of the bytes that held the position
	Direction netflow.Direction // which way those bytes went within the flow
	Host      string            // a name learnt for the flow's server
}

// Server returns the flow's server endpoint: the receiver of client-to-server bytes.
func (n *Network) Server() netip.AddrPort {
	if n.Direction == netflow.ServerToClient {
		return n.Src
	}
	return n.Dst
}

// MarshalJSON writes the report form: flow_uid, protocol, src_ip, src_port, dst_ip, dst_port,
// direction, host.
func (n Network) MarshalJSON() ([]byte, error) { return n.AppendJSON(make([]byte, 0, 160)), nil }

// AppendJSON appends the report form of n to b.
func (n *Network) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if n.FlowUID != "" {
		b = append(b, `"flow_uid":`...)
		b = appendJSONString(b, n.FlowUID)
		b = append(b, ',')
	}
	b = append(b, `"protocol":"`...)
	b = append(b, n.Proto.String()...)
	b = append(b, `","src_ip":"`...)
	b = n.Src.Addr().AppendTo(b)
	b = append(b, `","src_port":`...)
	b = strconv.AppendUint(b, uint64(n.Src.Port()), 10)
	b = append(b, `,"dst_ip":"`...)
	b = n.Dst.Addr().AppendTo(b)
	b = append(b, `","dst_port":`...)
	b = strconv.AppendUint(b, uint64(n.Dst.Port()), 10)
	b = append(b, `,"direction":"`...)
	b = append(b, n.Direction.String()...)
	b = append(b, '"')
	if n.Host != "" {
		b = append(b, `,"host":`...)
		b = appendJSONString(b, n.Host)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Plain printable ASCII is copied; anything else goes
// through encoding/json. HTML characters are left as they are: an encoder that wants them escaped
// (json.Encoder's default) escapes them in what MarshalJSON returns.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Broadcast describes the over-the-air frame a position travelled in.
type Broadcast struct {
	Transmitter string `json:"transmitter"` // 802.11 transmitter (source) address
	Kind        string `json:"kind"`        // e.g. "DJI-DroneID", "ODID-beacon"
	FreqMHz     int    `json:"freq_mhz,omitempty"`
	SignalDBm   int    `json:"signal_dbm,omitempty"`
}

// Evidence ties an observation to the exact bytes it came from.
type Evidence struct {
	Input     string     `json:"input"`
	SHA256    string     `json:"sha256"`
	Locator   string     `json:"locator"`            // e.g. "frame 812", "record 40 @ 0x1f3a"
	Offset    int64      `json:"offset"`             // byte offset of the source bytes in the input, -1 if unknown
	Decoder   string     `json:"decoder"`            // package that decoded it, e.g. "mavlink"
	Message   string     `json:"message,omitempty"`  // message or record type, e.g. "GLOBAL_POSITION_INT"
	Encoding  string     `json:"encoding,omitempty"` // how the coordinates were encoded, e.g. "int32 degE7"
	Channel   Channel    `json:"channel"`
	Network   *Network   `json:"network,omitempty"`
	Broadcast *Broadcast `json:"broadcast,omitempty"`
	// Request is the HTTP request whose URL or body held the position (a row of 'droneaudit
	// requests', by the same id).
	Request *Request `json:"request,omitempty"`
	Note    string   `json:"note,omitempty"` // corrections applied, doubts
}

// Request names the HTTP request a position travelled in.
type Request struct {
	ID     string `json:"id"` // "<flow uid>#<n>": the n-th request of the flow
	Method string `json:"method"`
	URL    string `json:"url"`
}

// Fix is one position in WGS84 degrees. Decoders convert every other unit before emitting it.
type Fix struct {
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
	HasAlt bool    `json:"-"`
	AltM   float64 `json:"-"`
	// AltRef says what the altitude is measured from: "msl", "take-off", "ground", "ellipsoid".
	AltRef string    `json:"-"`
	Time   time.Time `json:"-"`
	Role   Role      `json:"role"`
	// PrecisionM is the half-width, in metres, of the cell the encoding can express: ±0.011 m for
	// degE7, ±55 m for a number printed with three decimals. Zone matches are widened by it.
	PrecisionM float64  `json:"precision_m"`
	Evidence   Evidence `json:"evidence"`
}

// Valid reports whether the fix is a real position: finite, in range, and not the (0,0) that
// receivers and firmware write when they have no fix.
func (f Fix) Valid() bool {
	if math.IsNaN(f.Lat) || math.IsNaN(f.Lon) || math.IsInf(f.Lat, 0) || math.IsInf(f.Lon, 0) {
		return false
	}
	if f.Lat < -90 || f.Lat > 90 || f.Lon < -180 || f.Lon > 180 {
		return false
	}
	return !(f.Lat == 0 && f.Lon == 0)
}

// String prints the fix for logs.
func (f Fix) String() string {
	return fmt.Sprintf("%s %.7f,%.7f (%s %s)", f.Role, f.Lat, f.Lon, f.Evidence.Decoder, f.Evidence.Locator)
}

// metresPerDegree is the length of one degree of latitude on the WGS84 mean sphere (R = 6371008.8 m).
const metresPerDegree = 6371008.8 * math.Pi / 180

// PrecisionDegE7 is the half-cell of an int32 degrees × 1e7 coordinate.
const PrecisionDegE7 = 0.5e-7 * metresPerDegree

// PrecisionFromDecimals returns the half-cell in metres of a coordinate printed with n decimals:
// ±0.5·10⁻ⁿ degrees (capture-and-performance.md §9.3/§9.4).
func PrecisionFromDecimals(n int) float64 {
	return 0.5 * math.Pow10(-n) * metresPerDegree
}

// PrecisionFloat32Deg returns the half-ulp in metres of a float32 holding degrees of magnitude v.
func PrecisionFloat32Deg(v float64) float64 {
	x := float32(math.Abs(v))
	ulp := math.Nextafter32(x, float32(math.Inf(1))) - x
	return 0.5 * float64(ulp) * metresPerDegree
}

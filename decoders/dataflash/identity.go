package dataflash

import (
	"regexp"
	"strconv"
	"strings"
)

// identity gathers what a log says about the aircraft that wrote it. ArduPilot prints the
// board name and the 96-bit MCU unique ID as a MSG at boot ("PX4v2 004A002F 33345119 32383433",
// verified on both corpus logs) and the firmware version as the MSG before it; BRD_SERIAL_NUM
// is the user-set serial parameter and SYSID_THISMAV the MAVLink system id that also appears
// in the vehicle's telemetry.
type identity struct {
	attrs map[string]string
	order []string
}

// boardUID matches "<board> XXXXXXXX XXXXXXXX XXXXXXXX".
var boardUID = regexp.MustCompile(`^(\S+) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8})$`)

// firmware matches "ArduCopter V4.5.1 (abcdef12)", "APM:Copter V3.3-dev (ae3192b8)".
var firmware = regexp.MustCompile(`^(Ardu\w+|APM:\w+|Rover|AntennaTracker|Blimp)\s+V\d[\w.\-]*(\s+\([0-9a-f]+\))?`)

func (id *identity) set(key, val string) bool {
	val = strings.TrimSpace(val)
	if val == "" {
		return false
	}
	if id.attrs == nil {
		id.attrs = map[string]string{}
	}
	if old, ok := id.attrs[key]; ok {
		return old != val && id.setAlt(key, val)
	}
	id.attrs[key] = val
	id.order = append(id.order, key)
	return true
}

// setAlt keeps a second, different value of a key (a board swapped mid-log would show two).
func (id *identity) setAlt(key, val string) bool {
	for i := 2; i < 5; i++ {
		k := key + "_" + strconv.Itoa(i)
		if old, ok := id.attrs[k]; ok {
			if old == val {
				return false
			}
			continue
		}
		id.attrs[k] = val
		id.order = append(id.order, k)
		return true
	}
	return false
}

// fromText reads a MSG text. It returns the attribute keys it set.
func (id *identity) fromText(s string) []string {
	s = strings.TrimSpace(s)
	var keys []string
	if m := boardUID.FindStringSubmatch(s); m != nil {
		if id.set("board", m[1]) {
			keys = append(keys, "board")
		}
		if id.set("board_uid", strings.ToUpper(m[2]+m[3]+m[4])) {
			keys = append(keys, "board_uid")
		}
	} else if firmware.MatchString(s) {
		if id.set("firmware", s) {
			keys = append(keys, "firmware")
		}
	}
	return keys
}

// fromVER reads the VER message of 4.x logs (ArduPilot/ardupilot@001064f4:libraries/AP_Logger/
// LogStructure.h, "QBHBBBBIZH": ... GH git hash, FWS firmware string, APJ board id), by column
// name so that layout changes do not matter.
func (id *identity) fromVER(m Message) []string {
	var keys []string
	if i := m.Format.Column("FWS"); i >= 0 {
		if s, ok := m.String(i); ok && id.set("firmware", s) {
			keys = append(keys, "firmware")
		}
	}
	if i := m.Format.Column("GH"); i >= 0 {
		if v, ok := m.Raw(i); ok && v != 0 && id.set("firmware_git", strconv.FormatUint(uint64(v), 16)) {
			keys = append(keys, "firmware_git")
		}
	}
	if i := m.Format.Column("APJ"); i >= 0 {
		if v, ok := m.Raw(i); ok && v != 0 && id.set("board_id", strconv.FormatFloat(v, 'f', -1, 64)) {
			keys = append(keys, "board_id")
		}
	}
	return keys
}

// fromParam reads a PARM. It returns the attribute key it set, or "".
func (id *identity) fromParam(name string, v float64) string {
	var key string
	switch name {
	case "BRD_SERIAL_NUM":
		key = "brd_serial_num"
	case "SYSID_THISMAV":
		key = "mavlink_sysid"
	default:
		return ""
	}
	if v == 0 || key == "mavlink_sysid" && v == 1 {
		return "" // unset, or the factory default system id that every vehicle shares
	}
	if id.set(key, strconv.FormatFloat(v, 'f', -1, 64)) {
		return key
	}
	return ""
}

package djilog

import (
	"fmt"
	"strconv"
)

// identity collects the serial numbers and names the records carry, which stand in for the
// details block when it is damaged.
type identity struct {
	fromRecover  bool
	product      int
	platform     int
	appVersion   [3]byte
	aircraftSN   string
	aircraftName string
	cameraSN     string
	rcSN         string
	batterySN    string
	components   []componentSN // distinct, bounded
}

type componentSN struct {
	kind int
	sn   string
}

// maxComponents bounds the distinct component serials kept.
const maxComponents = 16

// recover reads the RECOVER record (type 13): formats §9.6, DJI's
// `DJIFlightRecordRecoverInfoStruct`. Serial slots are 10 bytes up to v7 and 16 from v8.
func (r *run) recover(c []byte) {
	s := 16
	if r.p.version <= 7 {
		s = 10
	}
	need := 45 + 4*s
	if len(c) < need || r.ident.fromRecover {
		return
	}
	id := &r.ident
	id.fromRecover = true
	id.product = int(c[0])
	id.platform = int(c[1])
	copy(id.appVersion[:], c[2:5])
	id.aircraftSN = cString(c[5 : 5+s])
	id.aircraftName = cString(c[5+s : 37+s])
	id.cameraSN = cString(c[45+s : 45+2*s])
	id.rcSN = cString(c[45+2*s : 45+3*s])
	id.batterySN = cString(c[45+3*s : 45+4*s])
}

// componentKinds names COMPONENT_SERIAL component types (formats §9.6).
var componentKinds = map[int]string{1: "camera", 2: "aircraft", 3: "rc", 4: "battery", 5: "ssd", 6: "gimbal"}

// componentSerial reads COMPONENT_SERIAL (type 40): componentType u8 | seq u8 | len u8 | SN[len].
func (r *run) componentSerial(c []byte) {
	if len(c) < 3 {
		return
	}
	n := int(c[2])
	if 3+n > len(c) {
		n = len(c) - 3
	}
	sn := cString(c[3 : 3+n])
	if sn == "" {
		return
	}
	cs := componentSN{kind: int(c[0]), sn: sn}
	for _, have := range r.ident.components {
		if have == cs {
			return
		}
	}
	if len(r.ident.components) < maxComponents {
		r.ident.components = append(r.ident.components, cs)
	}
}

func componentKey(kind int) string {
	if k, ok := componentKinds[kind]; ok {
		return "component_" + k + "_serial"
	}
	return "component_" + strconv.Itoa(kind) + "_serial"
}

// identityAttrs merges the details' identity with what the records carry: the details win when
// they were accepted, the records fill gaps and stand alone when the details were rejected.
func (r *run) identityAttrs() map[string]string {
	a := map[string]string{}
	put := func(k, v string) {
		if v != "" && a[k] == "" {
			a[k] = v
		}
	}
	if d := r.det; d != nil {
		put("aircraft_name", d.AircraftName)
		put("aircraft_serial", d.AircraftSN)
		put("camera_serial", d.CameraSN)
		put("rc_serial", d.RCSN)
		put("battery_serial", d.BatterySN)
		put("product_type", strconv.Itoa(d.ProductType))
		put("product", productName(d.ProductType))
		put("app_platform", platformName(d.AppPlatform))
		put("app_version", d.appVersion())
		put("account_hash_field", d.AccountHash)
		put("uuid", d.UUID)
	}
	if id := &r.ident; id.fromRecover {
		put("aircraft_name", id.aircraftName)
		put("aircraft_serial", id.aircraftSN)
		put("camera_serial", id.cameraSN)
		put("rc_serial", id.rcSN)
		put("battery_serial", id.batterySN)
		put("product_type", strconv.Itoa(id.product))
		put("product", productName(id.product))
		put("app_platform", platformName(id.platform))
		put("app_version", fmt.Sprintf("%d.%d.%d", id.appVersion[0], id.appVersion[1], id.appVersion[2]))
	}
	for _, c := range r.ident.components {
		put(componentKey(c.kind), c.sn)
	}
	if r.aux.present {
		put("app_family", departmentName(r.aux.department))
	}
	return a
}

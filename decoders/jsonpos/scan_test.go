package jsonpos

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"droneaudit/geo"
)

// diffSeeds are documents of the shapes the audit meets (DJI Cloud API OSD and event messages,
// dji-network.md §4.4; Airdata-like flight objects) and the edges of what encoding/json accepts.
var diffSeeds = []string{
	`{"data":{"latitude":22.9,"longitude":113.7,"home_latitude":"1","home_longitude":"2"}}`,
	`[{"lat":1e3,"lng":-0.5}]`,
	`{"tid":"6a7bfe89-c386-4043-b600-b518e10096cc","bid":"42a19f36-5117-4520-bd13-fd61d818d52e","timestamp":1654070968655,` +
		`"gateway":"4TADKAQ000002J","data":{"attitude_head":60,"attitude_pitch":0.1,"attitude_roll":0.2,"elevation":0,` +
		`"battery":{"capacity_percent":80,"landing_power":0,"remain_flight_time":0,"return_home_power":0},"firmware_version":"1.0.0",` +
		`"gear":1,"height":38.0,"home_distance":0,"horizontal_speed":0,"latitude":22.907809968,"longitude":113.703482143,` +
		`"mode_code":0,"total_flight_distance":0,"total_flight_time":0,"vertical_speed":0,"wind_direction":0,"wind_speed":0,` +
		`"position_state":{"gps_number":12,"is_fixed":2,"quality":5,"rtk_number":30},"home_latitude":22.9071,"home_longitude":113.7031}}`,
	`{"method":"flighttask_progress","data":{"output":{"ext":{"current_waypoint_index":2,"wayline_mission_state":5,` +
		`"points":[{"latitude":22.91,"longitude":113.71,"height":100},{"latitude":22.92,"longitude":113.72,"alt":"90"}]}}}}`,
	`{"file":{"metadata":{"shoot_position":{"lat":"22.5","lng":"113.5"},"absolute_altitude":120.1}}}`,
	`{"flight":{"takeoff_latitude":47.1986560,"takeoff_longitude":8.7302205,"takeoff_altitude":412.5,` +
		`"records":[[1,2],[{"lat":47.19866,"lon":8.73022}],[]],"pilot":{"Lat":47.1,"LONG":8.7}}}`,
	`{"host":{"latitude":113.44,"longitude":23.46}}`,
	`{"a":{"lat":-1.5E-3,"lng":2.25e+2},"b":{"lat":0,"lng":-0}}`,
	`{"k\u00e9y":{"lat\u0041t":"1","lat":"1\u002e5","lng":"2"},"\ud83d\ude00":{"lat":1,"lng":2},"\ud800x":{"lat":1,"lng":2}}`,
	`{"esc\"\\\/\b\f\n\r\t":{"lat":1,"lng":2}}`,
	`{"lat":1,"lng":2,"lat":3,"lng":4,"alt":5,"alt":"x"}`,
	`{"LATİTUDE":1,"longitude":2}`,
	"{\"\xff\xfe\":{\"lat\":1,\"lng\":2},\"b\xe9\":{\"lat\":1,\"lng\":2}}",
	`{"lat":01,"lng":2}`, `01`, `1x`, `{"a":1}garbage`, `  [ ] `, ``, `   `, `{"a":`, `{"a":1,}`, `[1,]`,
	`{"a" : [ 1 , { "lat" : 1.0 , "lng" : 2.00 } ] }`, `tru`, `truex`, `nul`, `"str`, `"a\u12"`, `"a\x"`, "\"\x01\"",
	`{"lat":1.,"lng":2}`, `{"lat":-,"lng":2}`, `{"lat":1e,"lng":2}`, `{"lat":.5,"lng":2}`, `{"lat":+1,"lng":2}`,
	`{"latitude":"22.9,","longitude":"113.7"}`, `{"lat":true,"lng":null,"x":{"lat":[1],"lng":{}}}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{"lat":1,"lng":2}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":{"s":{"t":{"u":{"v":{"w":{"x":{"y":{"z":{"A":{"B":{"C":{"D":{"E":{"F":{"lat":1,"lng":2,"G":{"lat":3,"lng":4}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}`,
	`{"":{"":[{"lat":1,"lng":2}]},"x":[[{"lat":1,"lng":2}],3,{"lat":4,"lng":5}]}`,
}

func addDiffSeeds(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	// Not the documents at encoding/json's nesting bound (TestFindMatchesDecoder reads those):
	// minimizing 20 KB inputs stalls the fuzzer.
	f.Add([]byte(strings.Repeat(`{"a":`, 40) + `{"lat":1,"lng":2}` + strings.Repeat("}", 40)))
}

// foldAmbiguous reports whether an object of the document has two names equal under case
// folding: walk's lookup then takes whichever a map offers first, at random.
func foldAmbiguous(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		d := json.NewDecoder(strings.NewReader(string(b)))
		if d.Decode(&v) != nil {
			return false
		}
	}
	var amb func(v any) bool
	amb = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			for k := range x {
				for k2 := range x {
					if k != k2 && strings.EqualFold(k, k2) {
						return true
					}
				}
				if amb(x[k]) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if amb(e) {
					return true
				}
			}
		}
		return false
	}
	return amb(v)
}

func compareFind(t *testing.T, b []byte) {
	if got, want := Valid(b), json.Valid(b); got != want {
		t.Fatalf("%q: Valid %v, encoding/json %v", b, got, want)
	}
	for _, max := range []int{64, 2, 0} {
		got, gerr := findFast(b, geo.RoleAircraft, max)
		want, werr := findDecoded(b, geo.RoleAircraft, max)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q max %d: scanner error %v, Decoder error %v", b, max, gerr, werr)
		}
		if !reflect.DeepEqual(got, want) && !foldAmbiguous(b) {
			t.Fatalf("%q max %d:\nscanner %+v\nDecoder %+v", b, max, got, want)
		}
	}
}

func TestFindMatchesDecoder(t *testing.T) {
	for _, s := range diffSeeds {
		compareFind(t, []byte(s))
	}
	compareFind(t, []byte(strings.Repeat("[", maxNesting)+strings.Repeat("]", maxNesting)))
	compareFind(t, []byte(strings.Repeat("[", maxNesting+1)+strings.Repeat("]", maxNesting+1)))
	// The seeds find what they should: the scanner is not merely as empty as the Decoder.
	pos, err := Find([]byte(diffSeeds[2]), geo.RoleAircraft, 64)
	if err != nil || len(pos) != 2 || pos[0].Key != "home_latitude" || pos[1].Role != geo.RoleAircraft || pos[1].Alt != 38 {
		t.Fatalf("%+v %v", pos, err)
	}
}

// FuzzFindDifferential compares the scanner with the walk of encoding/json's decoded values: the
// same error or not, and the same positions in the same order.
func FuzzFindDifferential(f *testing.F) {
	addDiffSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) { compareFind(t, b) })
}

func BenchmarkFindDecoded(b *testing.B) {
	d := []byte(diffSeeds[2])
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		findDecoded(d, geo.RoleAircraft, 64)
	}
}

func BenchmarkFindOSD(b *testing.B) {
	d := []byte(diffSeeds[2])
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		Find(d, geo.RoleAircraft, 64)
	}
}

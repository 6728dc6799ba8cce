package decoders_test

import (
	"reflect"
	"testing"

	"droneaudit/decoders"
)

// An exposure reads in reports as the "exposure" note it used to be sent as: same severity,
// code, place and message, with the fact among the attributes.
func TestExposureNote(t *testing.T) {
	values := map[string]string{"lat": "1.5", "lon": "2.5"}
	e := decoders.Exposure{Fact: "take-off", Message: "take-off point", Values: values, Locator: "details", Offset: 42}
	want := decoders.Note{Severity: decoders.Info, Code: decoders.CodeExposure, Locator: "details", Offset: 42,
		Message: "take-off point", Attrs: map[string]string{"lat": "1.5", "lon": "2.5", "fact": "take-off"}}
	if got := e.Note(); !reflect.DeepEqual(got, want) {
		t.Fatalf("note %+v, want %+v", got, want)
	}
	if _, ok := values["fact"]; ok {
		t.Fatal("Note wrote the fact into the caller's values")
	}
	summary := decoders.Exposure{Message: "the log holds 3 positions", Values: values, Offset: -1}.Note()
	if !reflect.DeepEqual(summary.Attrs, values) || summary.Offset != -1 || summary.Code != "exposure" {
		t.Fatalf("summary %+v", summary)
	}
}

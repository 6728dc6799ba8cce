package devices

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"droneaudit/internal/netfixture"
)

// exampleCapture writes the lab segment example (netfixture.GenerateExample: the segment, a SADP
// search and the fetch of the camera's UPnP description) and returns its path.
func exampleCapture(t testing.TB) string {
	t.Helper()
	b, err := netfixture.ExampleCapture()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "example.pcapng")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExampleUPnPAndSADP checks what the camera's SADP answer and its UPnP description (served
// over HTTP to the phone) put in its row, and that the phone, which only asked, gets none of it.
func TestExampleUPnPAndSADP(t *testing.T) {
	inv, err := Build(t.Context(), []string{exampleCapture(t)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]Row{}
	for _, r := range inv.Devices {
		rows[r.MAC] = r
	}
	cam, phone := rows[netfixture.SegCamera.MAC.String()], rows[netfixture.SegPhone.MAC.String()]
	wantUPnP := UPnP{FriendlyNames: []string{"Cam-Front"}, Manufacturers: []string{"Hikvision"}, ModelNames: []string{"DS-2CD2143G0-I"},
		ModelNumbers: []string{"DS-2CD2143G0-I"}, Serials: []string{netfixture.CameraSerial}, UDNs: []string{"uuid:a4c5d6e7-1dd2-11b2-a8f3-4447ccaabbcc"}}
	if !reflect.DeepEqual(cam.UPnP, wantUPnP) {
		t.Errorf("camera UPnP %+v, want %+v", cam.UPnP, wantUPnP)
	}
	wantSADP := SADP{Models: []string{"DS-2CD2143G0-I"}, Serials: []string{netfixture.CameraSerial}, Firmware: []string{netfixture.CameraSoftware}}
	if !reflect.DeepEqual(cam.SADP, wantSADP) {
		t.Errorf("camera SADP %+v, want %+v", cam.SADP, wantSADP)
	}
	for _, sign := range []string{"hikvision: sadp: DS-2CD2143G0-I", "hikvision: upnp manufacturer: Hikvision"} {
		if !slices.Contains(cam.ClassSigns, sign) {
			t.Errorf("camera signs %q lack %q", cam.ClassSigns, sign)
		}
	}
	none := UPnP{FriendlyNames: []string{}, Manufacturers: []string{}, ModelNames: []string{}, ModelNumbers: []string{}, Serials: []string{}, UDNs: []string{}}
	if !reflect.DeepEqual(phone.UPnP, none) || len(phone.SADP.Models)+len(phone.SADP.Serials) != 0 {
		t.Errorf("phone UPnP %+v, SADP %+v", phone.UPnP, phone.SADP)
	}
	// The phone's contacts include the camera's description server and the SADP group.
	var got []string
	for _, c := range phone.Destinations {
		if c.App == AppSADP || c.App == AppHTTP {
			got = append(got, c.IP+" "+c.App)
		}
	}
	if want := []string{"239.255.255.250 " + AppSADP, "192.168.50.64 " + AppHTTP}; !slices.Equal(got, want) {
		t.Errorf("phone contacts %q, want %q", got, want)
	}
}

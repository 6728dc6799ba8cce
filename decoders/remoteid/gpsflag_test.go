package remoteid

import (
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/decoders/droneid"
	"droneaudit/geo"
)

// TestDroneIDGPSFlagClear: a DJI DroneID aircraft position broadcast with the GPS-valid state bit
// (0x40) clear still went over the air, so it is a broadcast fix like any other, its evidence
// noting "GPS-valid flag clear"; the anomaly note stays. A 0/0 position is still no fix, and a
// position with the bit set carries no such note.
func TestDroneIDGPSFlagClear(t *testing.T) {
	rec := func(state uint16, lat, lon float64) droneid.Record {
		return droneid.Record{VendorType: 0x58, Unk1: 0x62, Unk2: 0x13, Subcommand: droneid.SubTelemetry, Version: 2, Seq: 7,
			State: state, Serial: "0K1CG6G3AH8V2M", RawLat: droneid.RadE7(lat), RawLon: droneid.RadE7(lon), ProductType: 24}
	}
	for _, c := range []struct {
		name     string
		r        droneid.Record
		fix      bool
		flagNote bool
	}{
		{"flag clear", rec(droneid.StateSerialValid, 51.1663, 5.4700), true, true},
		{"flag set", rec(droneid.StateSerialValid|droneid.StateGPSValid, 51.1663, 5.4700), true, false},
		{"flag clear, no position", rec(droneid.StateSerialValid, 0, 0), false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &decodertest.Sink{}
			st := LinkDecoder{}.NewLink(decoders.Input{Path: "air.pcap"}, sink)
			data := linkVariants[1].wrap(beacon(capture.Dot11Beacon, 9, "Mavic-ABC123", djiElement(c.r)))
			st.Packet(&capture.Packet{Frame: 1, Offset: 24, LinkType: capture.LinkRadiotap, Data: data, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
			st.Close()
			var air []geo.Fix
			for _, f := range sink.Fixes {
				if f.Role == geo.RoleAircraft {
					air = append(air, f)
				}
			}
			if !c.fix {
				if len(air) != 0 {
					t.Fatalf("fixes %v", air)
				}
				return
			}
			if len(air) != 1 {
				t.Fatalf("aircraft fixes %v; notes %+v", air, sink.Notes)
			}
			f := air[0]
			if d := f.Lat - 51.1663; d > 1e-6 || d < -1e-6 || f.Evidence.Channel != geo.ChannelBroadcast || f.Evidence.Broadcast == nil || f.Evidence.Offset != 24 {
				t.Errorf("fix %+v", f)
			}
			if got := f.Evidence.Note == "GPS-valid flag clear"; got != c.flagNote {
				t.Errorf("evidence note %q", f.Evidence.Note)
			}
			an := sink.NotesWithCode(decoders.CodeBroadcastAnomaly)
			if c.flagNote && (len(an) != 1 || !strings.Contains(an[0].Attrs["anomalies"], "gps_flag_clear")) {
				t.Errorf("anomaly notes %+v", an)
			}
		})
	}
}

package demogen

// Zones returns the demo zone file: approximate outlines of real sensitive Belgian sites, good
// enough for a demonstration and not authoritative.
func Zones() []byte {
	return []byte(`{
  "type": "FeatureCollection",
  "features": [
    {"type": "Feature",
     "properties": {"name": "Kleine-Brogel Air Base", "sensitivity": "secret"},
     "geometry": {"type": "Polygon", "coordinates": [[[5.442, 51.154], [5.500, 51.153], [5.508, 51.170], [5.495, 51.186], [5.447, 51.184], [5.437, 51.166], [5.442, 51.154]]]}},
    {"type": "Feature",
     "properties": {"name": "Police staging area (mission briefing point)", "sensitivity": "restricted", "radius_m": 400},
     "geometry": {"type": "Point", "coordinates": [5.4380, 51.1480]}},
    {"type": "Feature",
     "properties": {"name": "Florennes Air Base", "sensitivity": "secret"},
     "geometry": {"type": "Polygon", "coordinates": [[[4.615, 50.232], [4.676, 50.232], [4.676, 50.255], [4.615, 50.255], [4.615, 50.232]]]}},
    {"type": "Feature",
     "properties": {"name": "SHAPE, Casteau", "sensitivity": "restricted", "radius_m": 1500},
     "geometry": {"type": "Point", "coordinates": [3.9840, 50.4970]}},
    {"type": "Feature",
     "properties": {"name": "Peer town centre", "sensitivity": "public", "radius_m": 800},
     "geometry": {"type": "Point", "coordinates": [5.4590, 51.1310]}}
  ]
}
`)
}

// Policy returns the lab's policy for the demo, in the configuration's YAML (README
// "Configuration"): positions in secret and restricted zones must not reach the internet or be
// broadcast, the pilot's position must not be broadcast in clear, and the RC must not contact an
// analytics SDK.
func Policy() []byte {
	return []byte(`# Police lab policy for the demo session (droneaudit audit with no inputs).
policy:
  fail_on: [secret, restricted]        # zone sensitivities whose positions must not leave the device
  fail_scopes: [internet, broadcast]   # leaving for the lab network is reported, not failed
  fail_on_broadcast_pilot: true        # the team's position broadcast in clear
  fail_on_device: false                # positions in on-device logs are reported as exposure
  destinations:
    deny_owners: [analytics-sdk]       # no analytics SDK may be contacted from an operational device
`)
}

// File is one generated file with the name package demo embeds it under.
type File struct {
	Name string
	Data []byte
}

// Files generates every file of the demo session.
func Files() ([]File, error) {
	lab, err := LabCapture()
	if err != nil {
		return nil, err
	}
	mon, err := MonitorCapture()
	if err != nil {
		return nil, err
	}
	return []File{
		{"lab-ap-2026-05-12.pcapng", lab},
		{"monitor-ch6-2026-05-12.pcapng", mon},
		{"DJIFlightRecord_2026-05-12_09-00-00.txt", OnDeviceFlightRecord()},
		{"belgian-sensitive-sites.geojson", Zones()},
		{"droneaudit.yaml", Policy()},
	}, nil
}

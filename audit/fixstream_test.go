package audit

import (
	"bytes"
	"net/netip"
	"reflect"
	"sort"
	"sync"
	"testing"

	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// The stream hands over the fixes in full batches of FixBatch, filled in what the consumer gave
// back, and the rest at flush; two lanes may add at once: each fix arrives whole, with its
// report, and each lane's fixes in their order (run with -race).
func TestFixStreamBatchesConcurrentLanes(t *testing.T) {
	var got []StreamedFix
	var sizes []int
	var spare []StreamedFix
	s := newFixStream(func(b []StreamedFix) []StreamedFix {
		sizes = append(sizes, len(b))
		got = append(got, b...)
		next := spare
		spare = b[:0]
		return next // nil the first time: the stream makes a new batch
	})
	const perLane = 2*FixBatch + 100
	reps := [2]*InputReport{{Path: "a"}, {Path: "b"}}
	var wg sync.WaitGroup
	for lane := range 2 {
		wg.Go(func() {
			for i := range perLane {
				f := geo.Fix{Lat: 1, Lon: 2, Evidence: geo.Evidence{Input: reps[lane].Path, Offset: int64(lane*perLane + i)}}
				s.add(reps[lane], &f)
			}
		})
	}
	wg.Wait()
	s.flush()
	s.flush() // nothing held: no empty batch
	if len(got) != 2*perLane {
		t.Fatalf("%d fixes handed over, want %d", len(got), 2*perLane)
	}
	for i, n := range sizes {
		if last := i == len(sizes)-1; n != FixBatch && !last || n == 0 {
			t.Fatalf("batch %d of %d has %d fixes", i, len(sizes), n)
		}
	}
	next := [2]int64{0, perLane}
	for _, q := range got {
		off := q.Fix.Evidence.Offset
		lane := off / perLane
		if off != next[lane] || q.Input != reps[lane] || q.Fix.Evidence.Input != reps[lane].Path {
			t.Fatalf("lane %d: got offset %d of %s, want %d", lane, off, q.Input.Path, next[lane])
		}
		next[lane]++
	}
	if next != [2]int64{perLane, 2 * perLane} {
		t.Fatalf("handed over up to %v", next)
	}
}

// FixesOnly changes nothing in the streamed fixes, the search's included: a capture uploads a
// point of the flown track of the run's GPX log (a track-leak finding in a full audit) and
// points inside a zone. Only the report's position findings and map tracks are left out.
func TestFixesOnlySameFixes(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	z := zones.Zones[0].Geometry.Bound().Center()
	for i, p := range [][2]float64{{50.8508, 4.3526}, {z.Lat(), z.Lon()}} { // 10 m from the log's second point; a zone
		pair, _ := scantest.Plant(scan.Int32RadE7LE, p[0], p[1], scan.LatLon)
		if err := w.UDP(netip.MustParseAddrPort("192.168.1.20:5000"), netip.AddrPortFrom(netip.MustParseAddr("203.0.113.5"), uint16(6000+i)), append([]byte("TRK"), pair...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(only bool) ([]geo.Fix, *Report) {
		var got []geo.Fix
		srcs := []Source{BytesSource("trk.pcap", buf.Bytes()), BytesSource("flight.gpx", []byte(trackLog))}
		rep, err := Run(t.Context(), srcs, Options{Zones: zones, Policy: DefaultPolicy(), FixesOnly: only,
			OnFixes: func(b []StreamedFix) []StreamedFix {
				for i := range b {
					f := b[i].Fix
					if f.Evidence.SHA256 == "" {
						f.Evidence.SHA256 = b[i].Input.WaitSHA256()
					}
					got = append(got, f)
				}
				return b[:0]
			}})
		if err != nil {
			t.Fatal(err)
		}
		return got, rep
	}
	all, full := run(false)
	only, short := run(true)
	// The capture's two flows go to different flow shards, whose fixes interleave in either
	// order: the streams are compared as sets.
	byPlace := func(fs []geo.Fix) {
		sort.SliceStable(fs, func(i, j int) bool {
			a, b := fs[i].Evidence, fs[j].Evidence
			if a.Input != b.Input {
				return a.Input < b.Input
			}
			return a.Locator < b.Locator
		})
	}
	byPlace(all)
	byPlace(only)
	if !reflect.DeepEqual(all, only) {
		t.Fatalf("FixesOnly streamed\n%+v\nwithout it\n%+v", only, all)
	}
	kinds := map[string]bool{}
	for _, f := range full.Findings {
		kinds[string(f.Kind)] = true
	}
	if len(all) < 5 || !kinds[KindTrackLeak] || !kinds[KindLocationLeak] {
		t.Fatalf("the full audit has %d fixes and findings of kinds %v: the test does not test", len(all), kinds)
	}
	var tracks int
	for _, in := range full.Inputs {
		tracks += len(in.tracks.tracks)
	}
	if tracks == 0 {
		t.Fatal("the full audit keeps no map track")
	}
	for _, in := range short.Inputs {
		if len(in.tracks.tracks) != 0 || len(in.ZonesTouched) != 0 {
			t.Errorf("FixesOnly: %s has tracks %v, zones touched %v", in.Path, in.tracks.tracks, in.ZonesTouched)
		}
	}
	for _, f := range short.Findings {
		if f.First != nil {
			t.Errorf("FixesOnly: a position finding %s %+v", f.Kind, f.First)
		}
	}
}

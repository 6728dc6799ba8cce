// Command gen writes the demo files that package demo embeds: the flight session of package demo
// and the lab segment example of netfixture.ExampleCapture.
package main

import (
	"log"
	"os"

	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

func main() {
	c, err := demo.Capture()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("kleine-brogel-flight.pcapng", c, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("belgian-sensitive-sites.geojson", demo.Zones(), 0o644); err != nil {
		log.Fatal(err)
	}
	seg, err := netfixture.ExampleCapture()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("lab-segment.pcapng", seg, 0o644); err != nil {
		log.Fatal(err)
	}
}

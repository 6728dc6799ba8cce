// Command gen writes the demo files that package demo embeds.
package main

import (
	"log"
	"os"

	"droneaudit/internal/demo"
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
}

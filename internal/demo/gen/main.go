//go:debug cryptocustomrand=1

// Command gen writes the files that package demo embeds: the demo session of package demogen
// and the lab segment example of netfixture.ExampleCapture.
package main

import (
	"log"
	"os"

	"droneaudit/internal/demo/demogen"
	"droneaudit/internal/netfixture"
)

func main() {
	files, err := demogen.Files()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(f.Name, f.Data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	seg, err := netfixture.ExampleCapture()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("lab-segment.pcapng", seg, 0o644); err != nil {
		log.Fatal(err)
	}
}

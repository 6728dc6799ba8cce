//go:debug cryptocustomrand=1

// Command gen writes the demo files that package demo embeds, from package demogen.
package main

import (
	"log"
	"os"

	"droneaudit/internal/demo/demogen"
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
}

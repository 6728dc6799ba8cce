package audit

import (
	"fmt"
	"regexp"
)

// redactedPlace says where an observation lies without its coordinates (--redact): the zone of
// its finding, and how far outside the zone's edge it is when it is not inside.
func redactedPlace(o *Observation, zone string) string {
	switch {
	case zone == "":
		return "outside every zone (coordinates withheld)"
	case o.DistanceM > 0:
		return fmt.Sprintf("%.1f m outside zone %q (coordinates withheld)", o.DistanceM, zone)
	}
	return fmt.Sprintf("inside zone %q (coordinates withheld)", zone)
}

// coordinateText matches a decimal number written with four or more decimals (about 10 m in
// degrees or finer): how coordinates appear in decoded text (notes, exposures, evidence notes).
// Nothing else the human reports print has that many decimals (altitudes, distances and
// precisions have one, times at most three).
var coordinateText = regexp.MustCompile(`-?\b[0-9]{1,3}\.[0-9]{4,}(?:[eE][-+]?[0-9]+)?\b`)

// redactText withholds the coordinates a line of free text may carry: the net under --redact for
// what the report does not know to be a position (a note's message, an exposure's value).
func redactText(s string) string { return coordinateText.ReplaceAllString(s, "[coordinate withheld]") }

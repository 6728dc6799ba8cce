package audit

import "fmt"

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

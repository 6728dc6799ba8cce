package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/spf13/cobra"

	"droneaudit/geo"
	"droneaudit/internal/safetext"
)

func init() { addCommand(newZonesCmd) }

func newZonesCmd() *cobra.Command {
	c := &cobra.Command{Use: "zones", Short: "Work with zone files"}
	c.AddCommand(&cobra.Command{
		Use:   "check ZONES",
		Short: "Validate a zone file and print each zone",
		Long: `check validates a GeoJSON FeatureCollection of sensitive zones: Polygon or MultiPolygon features,
or Point features with a radius_m property; each with the properties name (unique in the file)
and sensitivity (secret, restricted or public). Rings must be closed, must not cross or touch
themselves, and holes must lie inside their exterior ring; an edge spanning more than 180° of
longitude is taken to cross the antimeridian. An invalid file fails with the feature index, the
zone's name, the line and column, and the reason.

With zones_region: [west, south, east, north] in the configuration (or DRONEAUDIT_ZONES_REGION),
every zone must lie inside that box; a zone that would lie inside with longitude and latitude
swapped is reported as such. audit applies the same check to --zones.

For each zone it prints the index, name, sensitivity and kind, then its bounding box
[west, south, east, north] as GeoJSON orders it, its centre (the centroid of a polygon) and its
area on the sphere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			zs, err := loadZones(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %d zone(s), sha256 %s\n", safetext.String(args[0]), len(zs.Zones), zs.SHA256)
			for i := range zs.Zones {
				z := &zs.Zones[i]
				desc := z.Kind
				if z.Kind == "Point" {
					desc = fmt.Sprintf("Point, radius %.0f m", z.RadiusM)
				}
				fmt.Fprintf(out, "  [%d] %-40s %-10s %s\n", z.Index, safetext.String(z.Name), z.Sensitivity, desc)
				b, c := z.Bound(), z.Centre()
				fmt.Fprintf(out, "      bbox [%s, %s, %s, %s]  centre lat %s lon %s  area %s\n",
					coord(b.Min[0]), coord(b.Min[1]), coord(wrapLon(b.Max[0])), coord(b.Max[1]), coord(c[1]), coord(c[0]), area(z.AreaM2()))
			}
			return nil
		},
	})
	return c
}

// loadZones reads a zone file and checks it against the configured zones_region.
func loadZones(path string) (*geo.Zones, error) {
	var opts []geo.ZoneOption
	if cfg != nil && cfg.IsSet("zones_region") {
		region, err := zonesRegion(cfg.Get("zones_region"))
		if err != nil {
			return nil, usageError("zones_region: %v", err)
		}
		opts = append(opts, geo.WithRegion(region))
	}
	return geo.LoadZones(path, opts...)
}

// zonesRegion reads [west, south, east, north] from a configuration value: a list of numbers
// (YAML, JSON, TOML) or a string of four numbers (an environment variable).
func zonesRegion(v any) (orb.Bound, error) {
	var nums []float64
	switch v := v.(type) {
	case string:
		for _, f := range strings.FieldsFunc(strings.Trim(v, "[] "), func(r rune) bool { return r == ',' || r == ' ' }) {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return orb.Bound{}, fmt.Errorf("%q is not a number", f)
			}
			nums = append(nums, x)
		}
	case []any:
		for _, e := range v {
			switch x := e.(type) {
			case float64:
				nums = append(nums, x)
			case int:
				nums = append(nums, float64(x))
			case int64:
				nums = append(nums, float64(x))
			default:
				return orb.Bound{}, fmt.Errorf("%v is not a number", e)
			}
		}
	case []float64:
		nums = v
	default:
		return orb.Bound{}, fmt.Errorf("want [west, south, east, north], got %v", v)
	}
	if len(nums) != 4 {
		return orb.Bound{}, fmt.Errorf("want 4 numbers [west, south, east, north], got %d", len(nums))
	}
	b := orb.Bound{Min: orb.Point{nums[0], nums[1]}, Max: orb.Point{nums[2], nums[3]}}
	if err := (&geo.Zones{}).CheckRegion(b); err != nil {
		return orb.Bound{}, fmt.Errorf("%v is not [west, south, east, north] in degrees", nums)
	}
	return b, nil
}

func coord(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }

// wrapLon brings the east edge of a box across the antimeridian back into [-180, 180].
func wrapLon(x float64) float64 {
	if x > 180 {
		return x - 360
	}
	return x
}

// area prints square metres below 0.1 km², square kilometres above.
func area(m2 float64) string {
	if m2 < 1e5 {
		return fmt.Sprintf("%.0f m²", m2)
	}
	km2 := m2 / 1e6
	return fmt.Sprintf("%.*f km²", max(0, 2-int(math.Floor(math.Log10(km2)))), km2)
}

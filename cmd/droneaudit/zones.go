package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"droneaudit/geo"
)

func init() { addCommand(newZonesCmd) }

func newZonesCmd() *cobra.Command {
	c := &cobra.Command{Use: "zones", Short: "Work with zone files"}
	c.AddCommand(&cobra.Command{
		Use:   "check ZONES",
		Short: "Validate a zone file and print each zone",
		Long: `check validates a GeoJSON FeatureCollection of sensitive zones: Polygon or MultiPolygon features,
or Point features with a radius_m property; each with the properties name and sensitivity
(secret, restricted or public). An invalid file fails with the feature index and the reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			zs, err := geo.LoadZones(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %d zone(s), sha256 %s\n", args[0], len(zs.Zones), zs.SHA256)
			for _, z := range zs.Zones {
				desc := z.Kind
				if z.Kind == "Point" {
					desc = fmt.Sprintf("Point, radius %.0f m", z.RadiusM)
				}
				fmt.Fprintf(out, "  [%d] %-40s %-10s %s\n", z.Index, z.Name, z.Sensitivity, desc)
			}
			return nil
		},
	})
	return c
}

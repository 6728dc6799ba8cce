package destinations

import (
	"droneaudit/decoders"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the inventory as one JSON document: {"destinations": [...], "geoip": {...}}.
func (inv *Inventory) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(inv)
}

func namesText(r Row) string {
	var parts []string
	for _, n := range r.Names {
		parts = append(parts, n.Name+" ("+n.Source+")")
	}
	return strings.Join(parts, "; ")
}

func devicesText(r Row) string {
	var parts []string
	for _, d := range r.Devices {
		s := d.IP
		if d.MAC != "" {
			s += " " + d.MAC
		}
		if d.HostName != "" {
			s += " " + d.HostName
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

var csvHeader = []string{"ip", "port", "protocol", "names", "owner", "country", "asn", "as_org", "scope", "bytes_out", "bytes_in",
	"flows", "first", "last", "devices", "app", "flags"}

// WriteCSV writes one CSV line per destination with a header line.
func (inv *Inventory) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range inv.Rows {
		rec := []string{r.IP, strconv.Itoa(int(r.Port)), r.Protocol, namesText(r), r.Owner, r.Country, strconv.FormatUint(uint64(r.ASN), 10),
			r.ASOrg, r.Scope, strconv.FormatInt(r.BytesOut, 10), strconv.FormatInt(r.BytesIn, 10), strconv.Itoa(r.Flows),
			r.First.Format(time.RFC3339Nano), r.Last.Format(time.RFC3339Nano), devicesText(r), r.App, strings.Join(r.Flags, " ")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes an aligned table for people, followed by the GeoIP attribution.
func (inv *Inventory) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tPROTO\tNAMES\tOWNER\tCOUNTRY\tAS\tSENT\tRECEIVED\tFLOWS\tDEVICES\tFLAGS")
	for _, r := range inv.Rows {
		where := r.Country
		if r.Scope != ScopePublic {
			where = "(" + r.Scope + ")"
		}
		as := ""
		if r.ASN != 0 {
			as = fmt.Sprintf("AS%d %s", r.ASN, r.ASOrg)
		}
		proto := r.Protocol
		if r.App != "" {
			proto += "/" + r.App
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", fmt.Sprintf("%s:%d", r.IP, r.Port), proto, namesText(r), r.Owner,
			where, as, r.BytesOut, r.BytesIn, r.Flows, devicesText(r), strings.Join(r.Flags, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d destinations from %d packets. Country: %s", len(inv.Rows), inv.Packets, inv.GeoIP.CountryDB)
	if inv.GeoIP.ASNDB != "" {
		fmt.Fprintf(w, "; AS: %s", inv.GeoIP.ASNDB)
	}
	fmt.Fprintln(w, ".")
	for _, a := range inv.GeoIP.Attribution {
		fmt.Fprintln(w, a)
	}
	for _, n := range inv.Notes {
		fmt.Fprintln(w, "note:", noteLine(n))
	}
	return nil
}

// noteLine prints a note as "input: locator (offset N): message".
func noteLine(n decoders.Note) string {
	s := n.Input
	if n.Locator != "" {
		s += ": " + n.Locator
	}
	if n.Offset >= 0 {
		s += fmt.Sprintf(" (offset %d)", n.Offset)
	}
	return s + ": " + n.Message
}

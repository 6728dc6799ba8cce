package destinations

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"droneaudit/decoders"
	"droneaudit/internal/safetext"
	"droneaudit/internal/version"
)

// WriteJSON writes the inventory as one JSON document: {"schema_version": 2, "destinations":
// [...], "geoip": {...}, ...}. Every list is present, empty as [].
func (inv *Inventory) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	inv.Normalise()
	return enc.Encode(struct {
		SchemaVersion int `json:"schema_version"`
		*Inventory
	}{version.Schema, inv})
}

// Normalise makes every list of the inventory and its rows non-nil, so that JSON shows empty
// lists as [] rather than null or nothing.
func (inv *Inventory) Normalise() {
	if inv.Rows == nil {
		inv.Rows = []Row{}
	}
	if inv.Notes == nil {
		inv.Notes = []decoders.Note{}
	}
	if inv.DNSQueries == nil {
		inv.DNSQueries = []string{}
	}
	if inv.GeoIP.Attribution == nil {
		inv.GeoIP.Attribution = []string{}
	}
	for i := range inv.Rows {
		r := &inv.Rows[i]
		for _, l := range []*[]string{&r.Flags, &r.JA3, &r.JA4} {
			if *l == nil {
				*l = []string{}
			}
		}
		if r.Names == nil {
			r.Names = []Name{}
		}
		if r.Devices == nil {
			r.Devices = []Device{}
		}
	}
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

var csvHeader = []string{"ip", "port", "protocol", "names", "owner", "country", "asn", "as_org", "scope", "address_class", "bytes_out", "bytes_in",
	"flows", "first", "last", "devices", "app", "flags"}

// WriteCSV writes one CSV line per destination with a header line.
func (inv *Inventory) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range inv.Rows {
		rec := []string{r.IP, strconv.Itoa(int(r.Port)), r.Protocol, namesText(r), r.Owner, r.Country, strconv.FormatUint(uint64(r.ASN), 10),
			r.ASOrg, r.Scope, r.AddressClass, strconv.FormatInt(r.BytesOut, 10), strconv.FormatInt(r.BytesIn, 10), strconv.Itoa(r.Flows),
			r.First.Format(time.RFC3339Nano), r.Last.Format(time.RFC3339Nano), devicesText(r), r.App, strings.Join(r.Flags, " ")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes an aligned table for people, followed by the GeoIP attribution. Text that
// came from the capture (names, DHCP host names, notes) is shown through safetext.
func (inv *Inventory) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tPROTO\tSCOPE\tNAMES\tOWNER\tCOUNTRY\tAS\tSENT\tRECEIVED\tFLOWS\tDEVICES\tFLAGS")
	for _, r := range inv.Rows {
		where := r.Country
		if r.AddressClass != ClassPublic {
			where = "(" + r.AddressClass + ")"
		}
		as := ""
		if r.ASN != 0 {
			as = fmt.Sprintf("AS%d %s", r.ASN, r.ASOrg)
		}
		proto := r.Protocol
		if r.App != "" {
			proto += "/" + r.App
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", fmt.Sprintf("%s:%d", r.IP, r.Port), proto, r.Scope,
			safetext.String(namesText(r)), r.Owner, where, safetext.String(as), r.BytesOut, r.BytesIn, r.Flows,
			safetext.String(devicesText(r)), strings.Join(r.Flags, " "))
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
		fmt.Fprintln(w, "note:", safetext.String(n.Line()))
	}
	return nil
}

// Package broadcasts turns the drone broadcasts of 802.11 captures into aircraft: one aircraft
// per serial number, UAS ID or transmitter address, each with what it told every receiver in
// range — its identities, model, message kinds, first and last time, track, home and pilot
// positions. The same transmission heard on adjacent channels counts once (over-the-air.md §8).
package broadcasts

import (
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/remoteid"
	"droneaudit/geo"
	"droneaudit/internal/safetext"
)

// Bounds on what one aircraft keeps, so that a long capture stays in bounded memory.
const (
	maxTrack     = 100000 // track points per aircraft
	maxPlaces    = 1000   // distinct home or pilot positions per aircraft
	maxSetValues = 256    // values per identity or kind set
)

// Position is one broadcast position with its evidence: the capture and its SHA-256, the frame
// and the byte offset of its record, and the decoder and encoding that read it.
type Position struct {
	Lat      float64   `json:"lat"`
	Lon      float64   `json:"lon"`
	AltM     *float64  `json:"alt_m,omitempty"`
	Time     time.Time `json:"time"`
	File     string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Frame    int       `json:"frame"`
	Offset   int64     `json:"offset"`
	Decoder  string    `json:"decoder"`
	Message  string    `json:"message,omitempty"`
	Encoding string    `json:"encoding,omitempty"`
	Kind     string    `json:"kind"`
	Detail   string    `json:"detail,omitempty"` // e.g. "operator location type live"
}

// position turns a fix that remoteid emitted into a broadcast position.
func position(p *capture.Packet, f *geo.Fix, detail string) Position {
	ev := &f.Evidence
	q := Position{Lat: f.Lat, Lon: f.Lon, Time: f.Time, File: ev.Input, SHA256: ev.SHA256, Frame: p.Frame, Offset: ev.Offset,
		Decoder: ev.Decoder, Message: ev.Message, Encoding: ev.Encoding, Detail: detail}
	if ev.Broadcast != nil {
		q.Kind = ev.Broadcast.Kind
	}
	if f.HasAlt {
		v := f.AltM
		q.AltM = &v
	}
	return q
}

// Aircraft is everything heard from one aircraft.
type Aircraft struct {
	Serials      []string `json:"serials,omitempty"`
	UASIDs       []string `json:"uas_ids,omitempty"` // non-serial ODID IDs, as "type:value"
	OperatorIDs  []string `json:"operator_ids,omitempty"`
	Transmitters []string `json:"transmitters"`
	SSIDs        []string `json:"ssids,omitempty"`
	Models       []string `json:"models,omitempty"`
	Kinds        []string `json:"message_kinds"`
	// Frames counts distinct transmissions; Duplicates the copies heard again on other channels.
	Frames     int        `json:"frames"`
	Duplicates int        `json:"duplicates"`
	HeardOnMHz []int      `json:"heard_on_mhz,omitempty"`
	MaxSignal  *int       `json:"max_signal_dbm,omitempty"`
	First      time.Time  `json:"first"`
	Last       time.Time  `json:"last"`
	Track      []Position `json:"track,omitempty"`
	Home       []Position `json:"home,omitempty"`
	Pilot      []Position `json:"pilot,omitempty"`
	Anomalies  []string   `json:"anomalies,omitempty"`
	// TrackDropped counts track points beyond the per-aircraft bound.
	TrackDropped int `json:"track_dropped,omitempty"`
	// Auth holds the reassembled ODID Authentication data, one entry per auth type.
	Auth []Auth `json:"auth,omitempty"`

	auth map[uint8]*authPages

	parent *Aircraft // set when merged into another aircraft
}

// Auth is one ODID authentication, reassembled by (aircraft, auth type) from its pages (§5.4).
// It carries no position; it is kept as evidence of what the aircraft signed.
type Auth struct {
	Type      uint8     `json:"auth_type"`
	Pages     int       `json:"pages_seen"`
	LastPage  int       `json:"last_page"`
	Length    int       `json:"length"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	DataHex   string    `json:"data_hex"`
	Complete  bool      `json:"complete"`
}

// authPages collects the pages of one auth type; page 0 carries 17 data bytes, the others 23.
type authPages struct {
	have     uint16
	data     [16][23]byte
	lastPage int
	length   int
	ts       uint32
}

func (a *Aircraft) addAuth(m *remoteid.Auth) {
	if a.auth == nil {
		a.auth = map[uint8]*authPages{}
	}
	p := a.auth[m.AuthType]
	if p == nil {
		p = &authPages{lastPage: -1}
		a.auth[m.AuthType] = p
	}
	pg := int(m.Page & 0xf)
	p.have |= 1 << pg
	copy(p.data[pg][:], m.Data)
	if pg == 0 {
		p.lastPage, p.length, p.ts = int(m.LastPage&0xf), int(m.Length), m.Timestamp
	}
}

// assemble joins the pages in order, cut to the declared length (ODC: page 0 holds 17 bytes,
// each later page 23).
func (p *authPages) assemble(typ uint8) Auth {
	out := Auth{Type: typ, LastPage: p.lastPage, Length: p.length}
	for i := range 16 {
		if p.have&(1<<i) != 0 {
			out.Pages++
		}
	}
	var data []byte
	complete := p.lastPage >= 0
	for i := 0; i <= max(p.lastPage, 0); i++ {
		if p.have&(1<<i) == 0 {
			complete = false
			break
		}
		if i == 0 {
			data = append(data, p.data[0][:17]...)
		} else {
			data = append(data, p.data[i][:]...)
		}
	}
	if complete && p.length <= len(data) {
		data = data[:p.length]
	}
	out.Complete = complete && p.length <= len(data)
	out.DataHex = hex.EncodeToString(data)
	if p.ts != 0 {
		out.Timestamp = time.Unix(1546300800+int64(p.ts), 0).UTC()
	}
	return out
}

// Collector gathers sightings from one or more captures.
type Collector struct {
	aircraft []*Aircraft
	byKey    map[string]*Aircraft
	dedup    *remoteid.Dedup
	serialTx map[string]map[string]bool // serial → transmitters, for the spoof indicator
	stats    Stats
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{byKey: map[string]*Aircraft{}, dedup: remoteid.NewDedup(), serialTx: map[string]map[string]bool{}}
}

func root(a *Aircraft) *Aircraft {
	for a.parent != nil {
		a = a.parent
	}
	return a
}

// addTo adds v to a set kept as a sorted slice, bounded.
func addTo(set *[]string, v string) {
	if v == "" {
		return
	}
	i, found := slices.BinarySearch(*set, v)
	if !found && len(*set) < maxSetValues {
		*set = slices.Insert(*set, i, v)
	}
}

// keysOf returns the identity keys of a sighting, strongest first (§8.2).
func keysOf(s *remoteid.Sighting) (keys []string, serials []string, uas []string, ops []string) {
	for i := range s.Elements {
		e := &s.Elements[i]
		switch e.Kind {
		case remoteid.KindDJI:
			if e.Err == nil && e.DJI.SerialValid() {
				serials = append(serials, e.DJI.Serial)
			}
		case remoteid.KindODIDBeacon, remoteid.KindODIDParrot, remoteid.KindNANSDF:
			p := &e.Pack
			if e.Kind == remoteid.KindNANSDF {
				if !e.NAN.ODID {
					continue
				}
				p = &e.NAN.Pack
			}
			for j := 0; j < p.N; j++ {
				m := &p.Msgs[j]
				switch {
				case m.Truncated:
				case m.Type == remoteid.TypeBasicID && m.BasicID.UASID != "":
					if m.BasicID.IDType == 1 {
						serials = append(serials, m.BasicID.UASID)
					} else {
						uas = append(uas, fmt.Sprintf("%d:%s", m.BasicID.IDType, m.BasicID.UASID))
					}
				case m.Type == remoteid.TypeOperatorID && m.OperatorID.ID != "":
					ops = append(ops, m.OperatorID.ID)
				}
			}
		case remoteid.KindFrench:
			if e.French.Serial != "" {
				serials = append(serials, e.French.Serial)
			}
		}
	}
	for _, v := range serials {
		keys = append(keys, "serial:"+v)
	}
	for _, v := range uas {
		keys = append(keys, "uas:"+v)
	}
	keys = append(keys, "mac:"+capture.MAC(s.SA))
	return keys, serials, uas, ops
}

// Add records one sighting with the fixes remoteid decoded from it. Copies of a transmission
// heard within a second on other channels (dup) are counted once, their frequencies kept.
//
// The collector keeps its own duplicate window across all the captures of a run (two adapters on
// adjacent channels write two files of one transmission); remoteid's window is per capture.
func (c *Collector) Add(p *capture.Packet, s *remoteid.Sighting, fixes []geo.Fix) {
	c.stats.Sightings++
	dup := c.dedup.Duplicate(s)
	keys, serials, uas, ops := keysOf(s)
	a := c.aircraftFor(keys)
	if s.FreqMHz != 0 && !slices.Contains(a.HeardOnMHz, s.FreqMHz) && len(a.HeardOnMHz) < maxSetValues {
		a.HeardOnMHz = append(a.HeardOnMHz, s.FreqMHz)
		slices.Sort(a.HeardOnMHz)
	}
	if s.HasSignal && (a.MaxSignal == nil || s.SignalDBm > *a.MaxSignal) {
		v := s.SignalDBm
		a.MaxSignal = &v
	}
	if dup {
		a.Duplicates++
		return
	}
	a.Frames++
	if a.First.IsZero() || s.Time.Before(a.First) {
		a.First = s.Time
	}
	if s.Time.After(a.Last) {
		a.Last = s.Time
	}
	tx := capture.MAC(s.SA)
	addTo(&a.Transmitters, tx)
	for _, v := range serials {
		addTo(&a.Serials, v)
		if c.serialTx[v] == nil {
			c.serialTx[v] = map[string]bool{}
		}
		if len(c.serialTx[v]) < maxSetValues {
			c.serialTx[v][tx] = true
		}
	}
	for _, v := range uas {
		addTo(&a.UASIDs, v)
	}
	for _, v := range ops {
		addTo(&a.OperatorIDs, v)
	}
	if s.HasSSID && s.SSID != "" {
		addTo(&a.SSIDs, s.SSID)
		addTo(&a.Models, ssidModel(s.SSID))
	}
	if s.SA != s.BSSID && s.Subtype == capture.Dot11Beacon && !isNAN(s) {
		addTo(&a.Anomalies, "sa_differs_from_bssid")
	}
	if s.Injected {
		addTo(&a.Anomalies, "injected_frames")
	}
	for i := range s.Elements {
		c.element(a, &s.Elements[i])
	}
	for i := range fixes {
		c.place(a, p, &fixes[i])
	}
}

// place files a broadcast fix under the aircraft's track, home or pilot positions.
func (c *Collector) place(a *Aircraft, p *capture.Packet, f *geo.Fix) {
	kind := ""
	if f.Evidence.Broadcast != nil {
		kind = f.Evidence.Broadcast.Kind
	}
	switch f.Role {
	case geo.RoleAircraft:
		q := position(p, f, "")
		if kind == remoteid.KindFrench {
			q.AltM = nil // the French beacon's altitude is reported in the fix, not on the track
		}
		a.addTrack(q)
	case geo.RoleHome:
		addPlace(&a.Home, position(p, f, "home point"))
	case geo.RolePilot:
		detail := f.Evidence.Note
		switch kind {
		case remoteid.KindDJI:
			detail = "pilot app position"
		case remoteid.KindFrench:
			detail = "take-off point"
		}
		addPlace(&a.Pilot, position(p, f, detail))
	}
}

func isNAN(s *remoteid.Sighting) bool {
	return len(s.Elements) > 0 && s.Elements[0].Kind == remoteid.KindNANSync
}

// aircraftFor finds the aircraft any key belongs to, merging aircraft that the keys join.
func (c *Collector) aircraftFor(keys []string) *Aircraft {
	var a *Aircraft
	for _, k := range keys {
		b, ok := c.byKey[k]
		if !ok {
			continue
		}
		b = root(b)
		if a == nil {
			a = b
		} else if a != b {
			merge(a, b)
		}
	}
	if a == nil {
		a = &Aircraft{}
		c.aircraft = append(c.aircraft, a)
	}
	for _, k := range keys {
		c.byKey[k] = a
	}
	return a
}

// merge moves b into a.
func merge(a, b *Aircraft) {
	for _, set := range [][2]*[]string{{&a.Serials, &b.Serials}, {&a.UASIDs, &b.UASIDs}, {&a.OperatorIDs, &b.OperatorIDs},
		{&a.Transmitters, &b.Transmitters}, {&a.SSIDs, &b.SSIDs}, {&a.Models, &b.Models}, {&a.Kinds, &b.Kinds}, {&a.Anomalies, &b.Anomalies}} {
		for _, v := range *set[1] {
			addTo(set[0], v)
		}
	}
	a.Frames += b.Frames
	a.Duplicates += b.Duplicates
	for _, f := range b.HeardOnMHz {
		if !slices.Contains(a.HeardOnMHz, f) {
			a.HeardOnMHz = append(a.HeardOnMHz, f)
		}
	}
	slices.Sort(a.HeardOnMHz)
	if b.MaxSignal != nil && (a.MaxSignal == nil || *b.MaxSignal > *a.MaxSignal) {
		a.MaxSignal = b.MaxSignal
	}
	if !b.First.IsZero() && (a.First.IsZero() || b.First.Before(a.First)) {
		a.First = b.First
	}
	if b.Last.After(a.Last) {
		a.Last = b.Last
	}
	for _, p := range b.Track {
		a.addTrack(p)
	}
	for _, p := range b.Home {
		addPlace(&a.Home, p)
	}
	for _, p := range b.Pilot {
		addPlace(&a.Pilot, p)
	}
	a.TrackDropped += b.TrackDropped
	for t, p := range b.auth {
		if a.auth == nil {
			a.auth = map[uint8]*authPages{}
		}
		if q := a.auth[t]; q == nil {
			a.auth[t] = p
		}
	}
	*b = Aircraft{parent: a}
}

func (a *Aircraft) addTrack(p Position) {
	if len(a.Track) >= maxTrack {
		a.TrackDropped++
		return
	}
	a.Track = append(a.Track, p)
}

// addPlace keeps distinct home or pilot positions (same coordinates = same place).
func addPlace(set *[]Position, p Position) {
	for _, q := range *set {
		if q.Lat == p.Lat && q.Lon == p.Lon {
			return
		}
	}
	if len(*set) < maxPlaces {
		*set = append(*set, p)
	}
}

// element records what one element tells of the aircraft besides positions: message kinds,
// models, anomalies and authentication pages.
func (c *Collector) element(a *Aircraft, e *remoteid.Element) {
	switch e.Kind {
	case remoteid.KindDJI:
		r := &e.DJI
		addTo(&a.Kinds, fmt.Sprintf("%s 0x%02x", e.Kind, r.Subcommand))
		if e.Err != nil {
			return
		}
		addTo(&a.Models, r.Model())
		if r.Blank {
			addTo(&a.Models, "DJI (broken firmware)")
		}
		for _, an := range r.Anomalies() {
			addTo(&a.Anomalies, an)
		}
	case remoteid.KindODIDBeacon, remoteid.KindODIDParrot, remoteid.KindNANSDF:
		p := &e.Pack
		if e.Kind == remoteid.KindNANSDF {
			p = &e.NAN.Pack
			if !e.NAN.ODID {
				addTo(&a.Kinds, e.Kind)
				return
			}
		}
		if e.Err != nil {
			addTo(&a.Kinds, e.Kind)
			return
		}
		for _, v := range p.Violations {
			addTo(&a.Anomalies, v)
		}
		for j := 0; j < p.N; j++ {
			m := &p.Msgs[j]
			if m.Truncated {
				continue
			}
			addTo(&a.Kinds, e.Kind+" "+remoteid.TypeName(m.Type))
			switch m.Type {
			case remoteid.TypeBasicID:
				addTo(&a.Models, uaType(m.BasicID.UAType))
			case remoteid.TypeAuth:
				a.addAuth(&m.Auth)
			}
		}
	default:
		addTo(&a.Kinds, e.Kind)
	}
}

// Aircraft returns the aircraft heard, first heard first, with the spoof indicator of a serial
// sent from several transmitters.
func (c *Collector) Aircraft() []Aircraft {
	var out []Aircraft
	for _, a := range c.aircraft {
		if a.parent != nil {
			continue
		}
		x := *a
		x.Auth = nil
		for t := range uint8(16) {
			if p := a.auth[t]; p != nil {
				x.Auth = append(x.Auth, p.assemble(t))
			}
		}
		for _, s := range x.Serials {
			if n := len(c.serialTx[s]); n > 1 {
				x.Anomalies = append(slices.Clone(x.Anomalies), fmt.Sprintf("serial_%s_from_%d_transmitters", s, n))
			}
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b Aircraft) int { return a.First.Compare(b.First) })
	return out
}

// Stats counts what reading the captures met.
type Stats struct {
	Frames    int64 `json:"frames"`
	Sightings int64 `json:"drone_frames"`
	BadFCS    int64 `json:"bad_fcs"`
	Malformed int64 `json:"malformed"`
	Skipped   int64 `json:"not_802_11"`
}

// Stats returns what the collector counted; Frames, BadFCS, Malformed and Skipped are filled by
// CountInput from each capture's counters.
func (c *Collector) Stats() Stats { return c.stats }

// CountInput adds one capture's frame counters (as the engine and remoteid count them).
func (c *Collector) CountInput(counts map[string]int64) {
	c.stats.Frames += counts["packets"]
	c.stats.Skipped += counts["packets"] - counts["dot11_frames"]
	c.stats.BadFCS += counts["dot11_bad_fcs"]
	c.stats.Malformed += counts["dot11_malformed"]
}

// SetSHA256 fills a capture's hash into the positions heard in it, once the one pass over it has
// finished hashing.
func (c *Collector) SetSHA256(file, sum string) {
	for _, a := range c.aircraft {
		for _, list := range [][]Position{a.Track, a.Home, a.Pilot} {
			for i := range list {
				if list[i].File == file {
					list[i].SHA256 = sum
				}
			}
		}
	}
}

// LinkDecoder returns the over-the-air decoder whose sightings this collector gathers: remoteid's,
// so that the aircraft are built from the same decoding and evidence as the audit's fixes.
func (c *Collector) LinkDecoder() decoders.LinkDecoder { return linkDecoder{c} }

type linkDecoder struct{ c *Collector }

func (l linkDecoder) Name() string                     { return remoteid.LinkDecoder{}.Name() }
func (l linkDecoder) Handles(lt capture.LinkType) bool { return remoteid.LinkDecoder{}.Handles(lt) }
func (l linkDecoder) NewLink(in decoders.Input, sink decoders.Sink) decoders.LinkStream {
	st := remoteid.LinkDecoder{}.NewLink(in, sink).(*remoteid.Stream)
	st.OnSighting = func(p *capture.Packet, s *remoteid.Sighting, fixes []geo.Fix, _ bool) { l.c.Add(p, s, fixes) }
	return st
}

// uaType names ODID UA types (§5.2).
func uaType(t uint8) string {
	names := []string{"", "aeroplane", "helicopter or multirotor", "gyroplane", "hybrid lift (VTOL)", "ornithopter",
		"glider", "kite", "free balloon", "captive balloon", "airship", "free fall or parachute", "rocket",
		"tethered powered aircraft", "ground obstacle", "other"}
	if int(t) < len(names) {
		return names[t]
	}
	return ""
}

// ssidModels are the SSID fingerprints of over-the-air.md §7 (Kismet conf/kismet_uav.conf).
var ssidModels = []struct {
	re    *regexp.Regexp
	model string
}{
	{regexp.MustCompile(`^Phantom3_`), "Phantom 3 Standard"},
	{regexp.MustCompile(`^Mavic-[0-9A-F]{6}$`), "Mavic 1 Pro"},
	{regexp.MustCompile(`^Mavic_`), "Mavic"},
	{regexp.MustCompile(`^DJI-MAVIC3`), "Mavic 3"},
	{regexp.MustCompile(`^DJI-MINI3-Pro-`), "Mini 3 Pro"},
	{regexp.MustCompile(`^Spark-RC-`), "Spark RC"},
	{regexp.MustCompile(`^Spark-`), "Spark"},
	{regexp.MustCompile(`^TELLO`), "Tello"},
	{regexp.MustCompile(`^OSMO_`), "Osmo"},
	{regexp.MustCompile(`^RID-1581`), "DJI Remote ID beacon"},
}

func ssidModel(ssid string) string {
	for _, m := range ssidModels {
		if m.re.MatchString(ssid) {
			return m.model
		}
	}
	return ""
}

// WriteText prints the aircraft for a reader.
func WriteText(w io.Writer, list []Aircraft, st Stats) error {
	return WriteTextIn(w, list, st, time.Local)
}

// WriteTextIn prints the aircraft for a reader, times in loc. What the aircraft broadcast
// (serials, IDs, SSIDs, model names) is chosen by whoever transmits: every line passes through
// safetext.
func WriteTextIn(w io.Writer, list []Aircraft, st Stats, loc *time.Location) error {
	var out strings.Builder
	b := &out
	fmt.Fprintf(b, "%d frames, %d with drone broadcasts, %d bad FCS, %d malformed: %d aircraft\n", st.Frames, st.Sightings, st.BadFCS, st.Malformed, len(list))
	for i, a := range list {
		fmt.Fprintf(b, "\naircraft %d\n", i+1)
		line := func(k string, v []string) {
			if len(v) > 0 {
				fmt.Fprintf(b, "  %-13s %s\n", k, strings.Join(v, ", "))
			}
		}
		line("serials", a.Serials)
		line("uas ids", a.UASIDs)
		line("operator ids", a.OperatorIDs)
		line("transmitters", a.Transmitters)
		line("ssids", a.SSIDs)
		line("models", a.Models)
		line("messages", a.Kinds)
		fmt.Fprintf(b, "  %-13s %s .. %s (%d transmissions, %d duplicates)\n", "heard", timeIn(a.First, loc), timeIn(a.Last, loc), a.Frames, a.Duplicates)
		if len(a.HeardOnMHz) > 0 {
			fmt.Fprintf(b, "  %-13s %v MHz", "heard on", a.HeardOnMHz)
			if a.MaxSignal != nil {
				fmt.Fprintf(b, ", max %d dBm", *a.MaxSignal)
			}
			b.WriteString("\n")
		}
		if len(a.Track) > 0 {
			f, l := a.Track[0], a.Track[len(a.Track)-1]
			fmt.Fprintf(b, "  %-13s %d points, %.7f,%.7f (frame %d) .. %.7f,%.7f (frame %d)\n", "track", len(a.Track), f.Lat, f.Lon, f.Frame, l.Lat, l.Lon, l.Frame)
		}
		for _, p := range a.Home {
			fmt.Fprintf(b, "  %-13s %.7f,%.7f (%s frame %d)\n", "home", p.Lat, p.Lon, p.Kind, p.Frame)
		}
		for _, p := range a.Pilot {
			fmt.Fprintf(b, "  %-13s %.7f,%.7f (%s, %s frame %d)\n", "PILOT", p.Lat, p.Lon, p.Detail, p.Kind, p.Frame)
		}
		for _, au := range a.Auth {
			fmt.Fprintf(b, "  %-13s type %d, %d of %d pages, %d bytes, complete %v\n", "auth", au.Type, au.Pages, au.LastPage+1, au.Length, au.Complete)
		}
		line("anomalies", a.Anomalies)
	}
	var clean strings.Builder
	for line := range strings.Lines(out.String()) {
		body, nl := strings.CutSuffix(line, "\n")
		clean.WriteString(safetext.String(body))
		if nl {
			clean.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, clean.String())
	return err
}

// timeIn shows an instant in loc with the zone's name and offset.
func timeIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05.000 MST -07:00")
}

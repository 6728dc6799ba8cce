package decoders

// Exposure is a fact that anyone holding an on-device file learns from it without any key: the
// flight track, the take-off or home point, serial numbers, place names. It is what sharing,
// syncing or uploading the file would give away, which is why decoders report it apart from
// notes about damage: the audit lists every exposure, uncapped, under the input it came from.
type Exposure struct {
	// Fact names the kind of fact for decoders that report several per file (djilog: "take-off",
	// "identity", …); empty for a decoder's one summary of the file.
	Fact string
	// Message says in words what a reader learns, e.g. "a reader of this CSV learns the flight
	// track (812 positions), the take-off point".
	Message string
	// Values are the exposed values by name, e.g. {"home": "47.1,8.2", "aircraft_serial": "…"}.
	Values map[string]string
	// Locator and Offset say where in the input the first of the values lies; Offset is -1 when
	// the exposure sums up the whole file.
	Locator string
	Offset  int64
}

// Note returns the exposure as an informational Note of CodeExposure, with the fact, when there
// is one, under Attrs["fact"]: the form in which reports list exposures.
func (e Exposure) Note() Note {
	attrs := e.Values
	if e.Fact != "" {
		attrs = make(map[string]string, len(e.Values)+1)
		for k, v := range e.Values {
			attrs[k] = v
		}
		attrs["fact"] = e.Fact
	}
	return Note{Severity: Info, Code: CodeExposure, Locator: e.Locator, Offset: e.Offset, Message: e.Message, Attrs: attrs}
}

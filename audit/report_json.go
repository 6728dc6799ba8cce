package audit

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON. The same inputs, zones and policy give the same
// bytes: no wall-clock time, no map iteration order, no absolute paths beyond those given.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

package requests

import (
	"fmt"
	"path/filepath"
	"sync"

	"droneaudit/decoders"
	"droneaudit/decoders/bodies"
	"droneaudit/decoders/httpbody"
	"droneaudit/decoders/objects"
)

// Object is one object a body carried (decoders/bodies): the body with its content codings
// undone, or one part of a multipart body.
type Object struct {
	Where  string       `json:"where"` // "body", or "part N name=… filename=…"
	Kind   objects.Kind `json:"kind"`
	SHA256 string       `json:"sha256"`
	Size   int64        `json:"size"`
	// Cut is set when the object is not whole: the body was longer than what was kept, or a
	// coding broke.
	Cut bool `json:"cut,omitempty"`
	// File is the name it was extracted under (--extract), in the extract folder.
	File string `json:"file,omitempty"`
}

// extractor writes objects into the --extract folder; its errors become notes of the result.
type extractor struct {
	dir   string
	mu    sync.Mutex
	notes []decoders.Note
}

// openBody opens a body kept by the reader into its objects, for the row: the summary, the
// objects, and each whole object written to the extract folder when one is set.
func (c *Collector) openBody(out *Body, ct *Content) {
	wire := ""
	if !ct.Truncated {
		wire = out.SHA256
	}
	o := bodies.Open(ct.ContentType, ct.ContentEncoding, ct.Bytes, httpbody.Options{}, wire)
	out.Summary = o.Summary()
	if ct.Truncated {
		out.Summary += " (first " + fmt.Sprint(len(ct.Bytes)) + " B)"
	}
	for _, ob := range o.Objects {
		r := Object{Where: ob.Where, Kind: ob.Kind, SHA256: ob.SHA256, Size: ob.Size, Cut: ct.Truncated || !o.Complete}
		if c.ex != nil && !r.Cut && ob.Size > 0 {
			r.File = c.ex.extract(ct.Request, ob.Data)
		}
		out.Objects = append(out.Objects, r)
	}
}

func (e *extractor) extract(id string, b []byte) string {
	p, err := objects.Extract(e.dir, b)
	if err != nil {
		e.mu.Lock()
		e.notes = append(e.notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeNotWritten, Offset: -1,
			Message: fmt.Sprintf("request %s: object not extracted: %v", id, err)})
		e.mu.Unlock()
		return ""
	}
	return filepath.Base(p)
}

package devices

import (
	"droneaudit/engine"
)

// Evidence locates in the inputs the first frame behind a device or one of its contacts, so that
// a finding about the device can be checked in Wireshark: the input, its SHA-256, the frame
// number and the byte offset of the frame's record.
type Evidence struct {
	Input  string `json:"input"`
	SHA256 string `json:"sha256"`
	Frame  int    `json:"frame"`
	Offset int64  `json:"offset"` // -1 when the frame's offset is not known
}

// seenAt is where a frame lies: its input (whose SHA-256 is known only at the end of the pass),
// frame number and offset. The first one in input order is kept, so that the evidence does not
// depend on how the flows were spread over shards.
type seenAt struct {
	in     *engine.Input
	frame  int
	offset int64
}

// before reports whether a lies before b in the inputs; an unset b is after everything.
func (a seenAt) before(b seenAt) bool {
	switch {
	case a.in == nil:
		return false
	case b.in == nil:
		return true
	case a.in.Index != b.in.Index:
		return a.in.Index < b.in.Index
	}
	return a.frame < b.frame
}

// keep replaces s with a when a lies before it.
func (s *seenAt) keep(a seenAt) {
	if a.before(*s) {
		*s = a
	}
}

// evidence is the exported form of s, nil when s is unset. It is called after the pass, when
// the inputs' SHA-256 are known.
func (s seenAt) evidence() *Evidence {
	if s.in == nil {
		return nil
	}
	return &Evidence{Input: s.in.Name, SHA256: s.in.SHA256, Frame: s.frame, Offset: s.offset}
}

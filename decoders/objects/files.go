package objects

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"

	"droneaudit/decoders"
)

// FindFileDecoder returns the first decoder of files whose Sniff accepts the body's first
// decoders.SniffLen bytes, as the engine picks the decoder of a file on disk (the registry's
// order: the more specific formats first), or nil.
func FindFileDecoder(files []decoders.FileDecoder, body []byte) decoders.FileDecoder {
	head := body[:min(len(body), decoders.SniffLen)]
	for _, d := range files {
		if d.Sniff(head) {
			return d
		}
	}
	return nil
}

// DecodeFile runs the file decoder that recognises the body over it, held in memory, and reports
// to sink. in names the body in evidence (Path, SHA256); its Size and R are set here, so the
// offsets of what is reported are offsets in the body. It returns the decoder's name, "" when
// none recognised the body. A decoder's panic is an error, not a crash: what it reported before
// stands.
func DecodeFile(ctx context.Context, files []decoders.FileDecoder, in decoders.Input, body []byte, sink decoders.Sink) (name string, err error) {
	d := FindFileDecoder(files, body)
	if d == nil {
		return "", nil
	}
	in.Size, in.R = int64(len(body)), bytes.NewReader(body)
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: internal error of the %s decoder on an in-memory body: %v\n%s", in.Path, d.Name(), v, debug.Stack())
		}
	}()
	return d.Name(), d.Decode(ctx, in, sink)
}

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"

	"droneaudit/decoders"
)

// runFile decodes one log file with the first file decoder that recognises it, hashing the file
// beside the decoding (or before it, with HashFirst). Every outcome ends in Output.Done.
func runFile(ctx context.Context, cfg *Config, op *opened) {
	in := op.in
	defer cfg.Output.Done(in)
	defer op.close()
	dec := findFile(cfg, op.head)
	if dec == nil {
		switch {
		case in.Size == 0:
			in.Err = fmt.Errorf("%s: empty file", in.Name)
		case op.gz != nil && isGzip(op.head):
			if in.Walked {
				in.Skipped = "compressed twice (gzip inside gzip): not decompressed further"
			} else {
				in.Err = fmt.Errorf("%s: %w: compressed twice (gzip inside gzip), not decompressed further", in.Name, ErrUnknownFormat)
			}
		case len(cfg.Files) == 0 && in.Walked:
			in.Skipped = ErrNotCapture.Error()
		case len(cfg.Files) == 0:
			in.Err = notCapture{in.Name}
		case in.Walked:
			in.Skipped = "not a format droneaudit decodes"
		default:
			in.Err = fmt.Errorf("%s: %w (known: %s)", in.Name, ErrUnknownFormat, knownFormats(cfg))
		}
		sum, err := op.hashAll()
		in.SHA256 = sum
		if err != nil {
			in.Err = err
		}
		return
	}
	in.Format = dec.Name()
	if err := op.random(); err != nil {
		in.Err = err
		if sum, herr := op.hashAll(); herr == nil {
			in.SHA256 = sum
		}
		return
	}
	hashed := make(chan error, 1)
	if cfg.HashFirst {
		op.hashAhead()
		go func() { hashed <- op.hashedAhead() }()
	} else {
		go func() {
			var err error
			in.SHA256, err = op.hashAll()
			hashed <- err
		}()
	}
	in.dec.R = op.r
	if err := decodeFile(ctx, dec, in, cfg.Output.Sink(in, LaneFile)); err != nil {
		in.Err = err
	}
	if err := <-hashed; err != nil && in.Err == nil {
		in.Err = err
	}
}

// decodeFile runs one file decoder. A decoder bug must not take the other inputs down with it:
// the input is reported as not fully decoded, with what was found before the failure.
func decodeFile(ctx context.Context, dec decoders.FileDecoder, in *Input, sink decoders.Sink) (err error) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("decoder failure", "input", in.Name, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: internal decoder error (please report): %v", in.Name, v)
		}
	}()
	return dec.Decode(ctx, in.dec, sink)
}

func findFile(cfg *Config, head []byte) decoders.FileDecoder {
	for _, d := range cfg.Files {
		if d.Sniff(head) {
			return d
		}
	}
	return nil
}

func knownFormats(cfg *Config) string {
	names := []string{"pcap", "pcapng"}
	for _, d := range cfg.Files {
		if !slices.Contains(names, d.Name()) {
			names = append(names, d.Name())
		}
	}
	return strings.Join(names, ", ")
}

// notCapture is the error for a named input that is no capture, in a run that reads captures
// only: it is ErrNotCapture, and ErrUnknownFormat to callers that ask for that.
type notCapture struct{ name string }

func (e notCapture) Error() string {
	return e.name + ": " + ErrNotCapture.Error() + ": this command reads captures only"
}

func (e notCapture) Unwrap() []error { return []error{ErrNotCapture, ErrUnknownFormat} }

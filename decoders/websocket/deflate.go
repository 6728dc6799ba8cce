package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strconv"
	"strings"

	"droneaudit/decoders"
)

// Deflate is a permessage-deflate agreement for one direction (RFC 7692 §7.1).
type Deflate struct {
	// NoContextTakeover: the sender resets its compressor after each message, so each message
	// inflates alone (client_/server_no_context_takeover of the sending side).
	NoContextTakeover bool
	// WindowBits is the sender's LZ77 window (client_/server_max_window_bits), 8 to 15; 15 when
	// not stated.
	WindowBits int
}

// ErrTooLarge is a message's Err when its inflated payload passed the bound or the run's budget.
var ErrTooLarge = errors.New("inflated message exceeds its bound; cut")

// tail is what RFC 7692 §7.2.2 has a receiver append before inflating a message (the
// sync-flush's empty stored block the sender removed), followed by an empty final stored block,
// so that the inflater ends cleanly at the message's end.
var tail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflater keeps the context a sender with context takeover shares between messages: the last
// 32 KiB it produced, which the next message's back-references may reach into (RFC 1951 §3.2.5).
type inflater struct {
	takeover bool
	budget   *decoders.ExpansionBudget
	window   []byte
	broken   bool // a message was cut or damaged: the next ones miss their context
	out      []byte
	in       []byte
	r        io.ReadCloser
	buf      []byte
}

const windowSize = 32 << 10

// inflate inflates one message into at most max bytes. partial says the compressed payload is
// cut, so an early end is expected and the context is lost for the messages after.
func (f *inflater) inflate(payload []byte, max int, partial bool) (out []byte, cut bool, err error) {
	f.in = append(append(f.in[:0], payload...), tail...)
	var dict []byte
	if f.takeover {
		dict = f.window
	}
	// One inflater per direction, reset for each message: its state is tens of kilobytes.
	if f.r == nil {
		f.r = flate.NewReaderDict(bytes.NewReader(f.in), dict)
		f.buf = make([]byte, 8<<10)
	} else if err := f.r.(flate.Resetter).Reset(bytes.NewReader(f.in), dict); err != nil {
		return nil, false, err
	}
	r, buf := f.r, f.buf
	f.out = f.out[:0]
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			keep := min(n, max-len(f.out))
			if !f.budget.Take(int64(keep)) {
				err, cut = ErrTooLarge, true
				break
			}
			f.out = append(f.out, buf[:keep]...)
			if keep < n {
				err, cut = ErrTooLarge, true
				break
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if !partial {
				err = rerr
				if f.broken {
					err = errors.New(rerr.Error() + " (an earlier message was lost, so this one misses its context)")
				}
			}
			break
		}
	}
	if f.takeover {
		if err != nil || cut || partial {
			f.broken = true
			f.window = f.window[:0]
		} else {
			f.window = append(f.window, f.out...)
			if len(f.window) > windowSize {
				f.window = append(f.window[:0], f.window[len(f.window)-windowSize:]...)
			}
		}
	}
	return f.out, cut, err
}

// ParseExtensions reads a Sec-WebSocket-Extensions value of a server's handshake response and
// returns the permessage-deflate agreement for each direction, or nils when none was accepted
// (RFC 7692 §7.1: server_no_context_takeover, client_no_context_takeover, server_max_window_bits,
// client_max_window_bits).
func ParseExtensions(values []string) (client, server *Deflate) {
	for _, v := range values {
		for ext := range strings.SplitSeq(v, ",") {
			params := strings.Split(ext, ";")
			if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
				continue
			}
			c, s := &Deflate{WindowBits: 15}, &Deflate{WindowBits: 15}
			for _, p := range params[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				val = strings.Trim(strings.TrimSpace(val), `"`)
				bits, err := strconv.Atoi(val)
				if err != nil || bits < 8 || bits > 15 {
					bits = 15
				}
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "client_no_context_takeover":
					c.NoContextTakeover = true
				case "server_no_context_takeover":
					s.NoContextTakeover = true
				case "client_max_window_bits":
					c.WindowBits = bits
				case "server_max_window_bits":
					s.WindowBits = bits
				}
			}
			return c, s // the response names the one extension the server accepted
		}
	}
	return nil, nil
}

package tls

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// flowResult is one TCP connection of a capture, decrypted.
type flowResult struct {
	flow    *flowtable.Flow
	plain   [2]bytes.Buffer
	records [2][]*Data // copies, with Bytes
	sum     Summary
}

// decryptCapture reads a capture the way the engine does (capture.Reader, NetDecoder, a flow
// table with reassembly) and feeds each TCP connection to its own Session. The capture's
// Decryption Secrets Blocks are added to keys as they are read.
func decryptCapture(t *testing.T, path string, keys *tlskeys.Log) []*flowResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return decryptReader(t, f, path, keys)
}

func decryptReader(t *testing.T, r io.Reader, name string, keys *tlskeys.Log) []*flowResult {
	t.Helper()
	rd, err := capture.NewReader(r, name)
	if err != nil {
		t.Fatal(err)
	}
	rd.OnSecrets = func(s capture.Secret) { keys.AddSecret(s) }
	nd := capture.NewNetDecoder()
	ft := flowtable.New()
	ft.Slots = 1
	var out []*flowResult
	sessions := map[*flowtable.Flow]*Session{}
	deliver := func(d flowtable.Delivery) {
		if d.Flow.Proto != netflow.TCP {
			return
		}
		s := sessions[d.Flow]
		if s == nil {
			fr := &flowResult{flow: d.Flow}
			out = append(out, fr)
			s = NewSession(Config{Keys: keys, OnData: func(dt *Data) {
				fr.plain[dt.Dir].Write(dt.Bytes)
				c := *dt
				c.Bytes = bytes.Clone(dt.Bytes)
				fr.records[dt.Dir] = append(fr.records[dt.Dir], &c)
			}})
			sessions[d.Flow] = s
			d.Flow.Data[0] = fr
		}
		if d.Gap {
			s.Gap(d.Dir, 0)
		}
		if len(d.Payload) > 0 {
			s.Feed(d.Dir, d.Payload)
		}
	}
	ft.EnableReassembly(deliver)
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tr, ok, err := nd.Decode(p)
		if err != nil || !ok {
			continue
		}
		deliver(ft.Add(tr, p.Frame, p.Time))
	}
	ft.Flush()
	for _, fr := range out {
		fr.sum = sessions[fr.flow].Close()
	}
	return out
}

package netfixture

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Rotate splits a capture of Ethernet frames into consecutive files, as a capture tool that
// rotates its output does (tcpdump -C/-G, dumpcap ring buffers): file k holds the frames from
// cuts[k-1] to cuts[k] (0-based frame indexes, ascending), each file with its own header, every
// frame with its own timestamp, in the capture's format (pcap or pcapng; a pcapng's Decryption
// Secrets Blocks are not carried over). A connection open at a cut runs on into the next file.
func Rotate(capture []byte, cuts ...int) ([][]byte, error) {
	type frame struct {
		ci   gopacket.CaptureInfo
		data []byte
	}
	var frames []frame
	ng := len(capture) >= 4 && bytes.Equal(capture[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a})
	var next func() ([]byte, gopacket.CaptureInfo, error)
	if ng {
		r, err := pcapgo.NewNgReader(bytes.NewReader(capture), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		next = r.ReadPacketData
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(capture))
		if err != nil {
			return nil, err
		}
		next = r.ReadPacketData
	}
	for {
		data, ci, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		frames = append(frames, frame{ci, bytes.Clone(data)})
	}
	var out [][]byte
	from := 0
	for _, to := range append(append([]int(nil), cuts...), len(frames)) {
		if to < from || to > len(frames) {
			return nil, fmt.Errorf("netfixture: cut at frame %d outside %d..%d", to, from, len(frames))
		}
		var buf bytes.Buffer
		var write func(gopacket.CaptureInfo, []byte) error
		var flush func() error
		if ng {
			w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
			if err != nil {
				return nil, err
			}
			write, flush = w.WritePacket, w.Flush
		} else {
			w := pcapgo.NewWriter(&buf)
			if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
				return nil, err
			}
			write, flush = w.WritePacket, func() error { return nil }
		}
		for _, f := range frames[from:to] {
			f.ci.InterfaceIndex = 0
			if err := write(f.ci, f.data); err != nil {
				return nil, err
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
		out = append(out, buf.Bytes())
		from = to
	}
	return out, nil
}

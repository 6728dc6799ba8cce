package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/internal/corpus"
)

// readTrace reads a capture through br and writes down everything the reader reports: each
// packet's fields and bytes, the secrets, the final error and the offset reached.
func readTrace(br *bufio.Reader) string {
	var sb strings.Builder
	r, err := NewReader(br, "trace.cap")
	if err != nil {
		return "open: " + err.Error()
	}
	r.OnSecrets = func(s Secret) { fmt.Fprintf(&sb, "secret %x % x\n", s.Type, s.Data) }
	for range 20000 {
		p, err := r.Next()
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				fmt.Fprintf(&sb, "error at %d: %v (%v)\n", fe.Offset, err, fe.Err)
			} else {
				fmt.Fprintf(&sb, "end: %v\n", err)
			}
			break
		}
		// The Time is compared as a value (wall, ext and location), not only as an instant.
		fmt.Fprintf(&sb, "%d @%d %#v %v if%d len%d % x\n", p.Frame, p.Offset, p.Time, p.LinkType, p.Interface, p.OrigLen, p.Data)
	}
	fmt.Fprintf(&sb, "offset %d\n", r.Offset())
	return sb.String()
}

// checkInPlace reads b once through a large buffer (records taken in place by the buffered fast
// paths) and once a byte at a time through the smallest buffer (every record the general way)
// and fails t when the two differ.
func checkInPlace(t *testing.T, b []byte) {
	t.Helper()
	fast := readTrace(bufio.NewReaderSize(bytes.NewReader(b), 1<<16))
	slow := readTrace(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(b)), 16))
	if fast != slow {
		t.Fatalf("in place:\n%s\nthe general way:\n%s", fast, slow)
	}
}

// oldNgTime is ngIface.time before its shortcut for whole-nanosecond ratios.
func oldNgTime(ifc ngIface, ts uint64) time.Time {
	whole := int64(ts / uint64(ifc.div))
	rem := int64(ts % uint64(ifc.div))
	ns := whole*ifc.mul + rem*ifc.mul/ifc.div
	return time.Unix(ifc.offsetS, ns).UTC()
}

func readerSeeds() [][]byte {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	pkts := [][]byte{[]byte("first"), make([]byte, 1500), {}, []byte("last")}
	seeds := [][]byte{
		pcapFile(binary.LittleEndian, false, 1, pkts, t0),
		pcapFile(binary.BigEndian, true, 101, pkts, t0),
	}
	cut := pcapFile(binary.LittleEndian, true, 1, pkts, t0)
	seeds = append(seeds, cut[:len(cut)-3], cut[:24+16+2])
	var buf bytes.Buffer
	w, _ := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, TimestampResolution: 6}, pcapgo.NgWriterOptions{})
	id, _ := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, TimestampResolution: 0x80 | 10})
	for i, p := range pkts {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p) + 3, InterfaceIndex: i % 2 * id}, p)
	}
	w.WriteDecryptionSecretsBlock(SecretsTLSKeyLog, []byte("CLIENT_RANDOM 00 11\n"))
	w.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: 2, Length: 2}, []byte{7, 7})
	w.Flush()
	ng := buf.Bytes()
	seeds = append(seeds, ng, ng[:len(ng)-6])
	bad := append([]byte(nil), ng...)
	bad[len(bad)-1] ^= 1 // the last block's trailing length
	return append(seeds, bad)
}

// TestReaderInPlace checks the buffered fast paths of pcap and pcapng against the general way on
// well-formed, cut and damaged files and the corpus captures.
func TestReaderInPlace(t *testing.T) {
	for _, s := range readerSeeds() {
		checkInPlace(t, s)
	}
	for _, s := range corpus.CaptureSeeds() {
		checkInPlace(t, s)
	}
}

// FuzzReaderInPlace is the differential fuzz target of the buffered fast paths (see
// checkInPlace); it also holds the pcapng timestamp shortcut to the general formula.
func FuzzReaderInPlace(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkInPlace(t, b)
		if len(b) >= 9 {
			ifc := ngIface{mul: 1000, div: 1, offsetS: int64(int8(b[8]))}
			setResolution(&ifc, b[0]%10)
			ts := binary.LittleEndian.Uint64(b)
			if got, want := ifc.time(ts), oldNgTime(ifc, ts); got != want {
				t.Fatalf("time(%d) resolution %d: %v, want %v", ts, b[0]%10, got, want)
			}
		}
	})
}

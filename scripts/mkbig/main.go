// Command mkbig writes large benchmark inputs by repeating a seed file: a tlog (the corpus
// QuadPlane tlog when present, else a generated one) or a raw DUML stream. Timestamps of repeated
// tlog copies are shifted so that the file stays a plausible, monotonic log. -kind dataflash
// writes one generated, position-dense ArduPilot DataFlash log of the size asked for.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"droneaudit/decoders/duml"
	"droneaudit/decoders/mavlink"
	"droneaudit/internal/dfgen"
)

func main() {
	kind := flag.String("kind", "tlog", "tlog, duml or dataflash")
	size := flag.Int64("size", 1<<30, "bytes to write (at least)")
	seed := flag.String("seed", "../shared/corpus/mavlink/arduplane_vtol_sitl_mav1.tlog", "seed tlog (generated when absent)")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" {
		log.Fatal("-o is required")
	}
	if *kind == "dataflash" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		n := dfgen.Write(w, *size)
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d bytes\n", *out, n)
		return
	}
	var unit []byte
	switch *kind {
	case "tlog":
		if b, err := os.ReadFile(*seed); err == nil {
			unit = b
		} else {
			unit = genTlog()
		}
	case "duml":
		unit = genDUML()
	default:
		log.Fatalf("unknown kind %q", *kind)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	shift := uint64(0)
	buf := make([]byte, len(unit))
	for written < *size {
		copy(buf, unit)
		if *kind == "tlog" && shift > 0 {
			shiftTlog(buf, shift)
		}
		w.Write(buf)
		written += int64(len(buf))
		shift += 3_600_000_000 // one hour per copy
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	fmt.Printf("%s: %d bytes\n", *out, written)
}

// shiftTlog adds d µs to every record timestamp of a clean tlog.
func shiftTlog(b []byte, d uint64) {
	for p := 0; p+8 < len(b); {
		ts := binary.BigEndian.Uint64(b[p:])
		binary.BigEndian.PutUint64(b[p:], ts+d)
		q := p + 8
		switch b[q] {
		case mavlink.STXv1:
			p = q + 8 + int(b[q+1])
		case mavlink.STXv2:
			p = q + 12 + int(b[q+1])
		default:
			return
		}
	}
}

func genTlog() []byte {
	var b []byte
	for i := 0; i < 20000; i++ {
		b = binary.BigEndian.AppendUint64(b, 1746714529674540+uint64(i)*10000)
		fr, _ := mavlink.Encode(&ardupilotmega.MessageAttitude{Roll: 0.1}, false, uint8(i), 1, 1)
		if i%6 == 0 {
			fr, _ = mavlink.Encode(&ardupilotmega.MessageGlobalPositionInt{Lat: 511680000 + int32(i), Lon: 54700000}, false, uint8(i), 1, 1)
		}
		b = append(b, fr...)
	}
	return b
}

func genDUML() []byte {
	var b []byte
	for i := 0; i < 20000; i++ {
		if i%4 == 0 {
			p := make([]byte, 50)
			binary.LittleEndian.PutUint64(p[0:], math.Float64bits(5.47*math.Pi/180))
			binary.LittleEndian.PutUint64(p[8:], math.Float64bits(51.168*math.Pi/180))
			b = append(b, duml.Encode(0x03, 0x02, uint16(i), 0, duml.SetFlightControl, duml.IDOSDGeneral, p)...)
		} else {
			b = append(b, duml.Encode(0x09, 0x03, uint16(i), 0, 0x09, 0x01, make([]byte, 20))...)
		}
	}
	return b
}

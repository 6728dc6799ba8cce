// Command genlab writes a generated lab capture (see package netfixture) for benchmarks:
//
//	go run ./internal/netfixture/genlab -n 1000000 -o big.pcap
//	go run ./internal/netfixture/genlab -segment -o segment.pcap
//
// It prints the ground truth counts on stderr. The file is never committed. -segment writes the
// small lab segment of netfixture.GenerateSegment instead (a DJI controller, a phone, a
// Hikvision camera, a Dahua NVR, a PC and the router, with their discovery traffic).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"droneaudit/internal/netfixture"
)

func main() {
	n := flag.Int("n", 1000000, "number of frames (at least)")
	out := flag.String("o", "lab.pcap", "output file; .pcapng writes pcapng with the key log as a Decryption Secrets Block")
	seed := flag.Uint64("seed", 1, "random seed")
	bulk := flag.Int("bulk", 3, "mean full-size server segments after each TLS request")
	segment := flag.Bool("segment", false, "write the lab segment with cameras, recorder, controller and phone instead")
	flag.Parse()
	run := run
	if *segment {
		run = func(_ int, out string, _ uint64, _ int) error { return runSegment(out) }
	}
	if err := run(*n, *out, *seed, *bulk); err != nil {
		fmt.Fprintln(os.Stderr, "genlab:", err)
		os.Exit(1)
	}
}

func run(n int, out string, seed uint64, bulk int) error {
	lab, err := netfixture.NewLab(context.Background())
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	format := netfixture.Pcap
	if strings.HasSuffix(out, ".pcapng") {
		format = netfixture.Pcapng
	}
	w, err := netfixture.NewWriter(f, format, lab.KeyLog)
	if err != nil {
		return err
	}
	e, err := lab.Generate(w, netfixture.Mix{Packets: n, Seed: seed, BulkSegments: bulk})
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	flows := 0
	for _, t := range e.Dest {
		flows += t.Flows
	}
	fmt.Fprintf(os.Stderr, "genlab: %s: %d frames, %d destinations, %d flows, %d DNS names, %d TLS SNIs, %d QUIC SNIs\n",
		out, e.Packets, len(e.Dest), flows, len(e.DNSQueries), len(e.TLSSNI), len(e.QUICSNI))
	return f.Close()
}

func runSegment(out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	format := netfixture.Pcap
	if strings.HasSuffix(out, ".pcapng") {
		format = netfixture.Pcapng
	}
	w, err := netfixture.NewWriter(f, format, nil)
	if err != nil {
		return err
	}
	if _, err := netfixture.GenerateSegment(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genlab: %s: %d frames, %d devices\n", out, w.Frames, len(netfixture.SegmentHosts))
	return f.Close()
}

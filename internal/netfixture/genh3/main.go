// Command genh3 writes a capture of real HTTP/3 traffic (quic-go's client and server over
// loopback UDP, QUIC v1) and the client's NSS key log, for the QUIC line of the TLS benchmark:
//
//	go run ./internal/netfixture/genh3 -mb 100 -o h3.pcap -keylog h3.keys
//
// Each connection carries 40 requests: GETs, and POSTs of generated uploads (64 KiB on average);
// each connection has a client port of its own. The file is never committed.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"

	"droneaudit/internal/netfixture"
)

func main() {
	mb := flag.Int("mb", 100, "approximate capture size in MB")
	out := flag.String("o", "h3.pcap", "capture file")
	keylog := flag.String("keylog", "h3.keys", "key log file")
	flag.Parse()
	if err := run(*mb, *out, *keylog); err != nil {
		fmt.Fprintln(os.Stderr, "genh3:", err)
		os.Exit(1)
	}
}

func run(mb int, out, keylog string) error {
	r := rand.New(rand.NewPCG(3, 4))
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		return err
	}
	var kl bytes.Buffer
	total, requests := 0, 0
	for c := 0; total < mb<<20; c++ {
		var reqs []netfixture.HTTP3Request
		for k := 0; k < 40; k++ {
			if k%2 == 1 {
				b := make([]byte, 1024+r.IntN(128<<10))
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				reqs = append(reqs, netfixture.HTTP3Request{Method: "POST", Path: "/upload?n=" + strconv.Itoa(k), Body: b})
			} else {
				reqs = append(reqs, netfixture.HTTP3Request{Method: "GET", Path: "/status?c=" + strconv.Itoa(c)})
			}
		}
		chunks, err := netfixture.HTTP3Session(context.Background(), netfixture.HTTP3Options{ServerName: fmt.Sprintf("api%d.example.test", c%7), KeyLog: &kl, Requests: reqs})
		if err != nil {
			return err
		}
		client := netip.AddrPortFrom(netfixture.QUICClient.Addr(), uint16(20000+c%40000))
		for _, ch := range chunks {
			src, dst := client, netfixture.QUICServer
			if !ch.FromClient {
				src, dst = dst, src
			}
			if err := w.UDP(src, dst, ch.Data); err != nil {
				return err
			}
			total += len(ch.Data)
		}
		requests += len(reqs)
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genh3: %s: %d requests, %d MB of UDP payload\n", out, requests, total>>20)
	return os.WriteFile(keylog, kl.Bytes(), 0o600)
}

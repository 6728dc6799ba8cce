// Command genhttps writes a capture of real HTTPS traffic (Go's net/http client and server over
// loopback TLS, HTTP/1.1 and HTTP/2) and the client's NSS key log, for the TLS benchmark:
//
//	go run ./internal/netfixture/genhttps -mb 200 -o https.pcap -keylog https.keys
//
// Connections carry GETs of generated pages and POSTs of generated uploads (64 KiB bodies on
// average). The file is never committed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"strconv"

	"droneaudit/internal/netfixture"
)

func main() {
	mb := flag.Int("mb", 200, "approximate capture size in MB")
	out := flag.String("o", "https.pcap", "capture file")
	keylog := flag.String("keylog", "https.keys", "key log file")
	flag.Parse()
	if err := run(*mb, *out, *keylog); err != nil {
		fmt.Fprintln(os.Stderr, "genhttps:", err)
		os.Exit(1)
	}
}

func body(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func run(mb int, out, keylog string) error {
	r := rand.New(rand.NewPCG(1, 2))
	pages := make([][]byte, 16)
	for i := range pages {
		pages[i] = body(r, 1024+r.IntN(128<<10))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if q.Method == http.MethodPost {
			n, _ := io.Copy(io.Discard, q.Body)
			fmt.Fprintf(w, `{"stored":%d}`, n)
			return
		}
		i, _ := strconv.Atoi(q.URL.Query().Get("p"))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pages[i%len(pages)])
	})
	var kl bytes.Buffer
	var conns []*netfixture.HTTPSConn
	total, requests := 0, 0
	for c := 0; total < mb<<20; c++ {
		got, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: c%2 == 1, KeyLog: &kl, ServerName: fmt.Sprintf("api%d.example.test", c%7)}, h,
			func(cl *http.Client, base string) error {
				for k := 0; k < 40; k++ {
					var resp *http.Response
					var err error
					if k%3 == 2 {
						resp, err = cl.Post(base+"/upload?n="+strconv.Itoa(k), "application/octet-stream", bytes.NewReader(pages[(c+k)%len(pages)]))
					} else {
						resp, err = cl.Get(base + "/page?p=" + strconv.Itoa(c+k))
					}
					if err != nil {
						return err
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					requests++
				}
				return nil
			})
		if err != nil {
			return err
		}
		for _, hc := range got {
			for _, ch := range hc.Chunks {
				total += len(ch.Data)
			}
		}
		conns = append(conns, got...)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		return err
	}
	if err := netfixture.WriteHTTPS(w, conns, netip.MustParseAddrPort("192.168.1.20:20000"), netip.MustParseAddrPort("203.0.113.7:443"), nil, nil); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(keylog, kl.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genhttps: %s: %d connections, %d requests, %d MB of TCP payload\n", out, len(conns), requests, total>>20)
	return f.Close()
}

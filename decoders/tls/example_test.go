package tls_test

import (
	"fmt"

	"droneaudit/decoders/tls"
	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// An engine observer keeps one Log for the run (key log files, and the Decryption Secrets
// Blocks the capture reader reports through OnSecrets) and one Session per TLS flow, fed with
// the flow's in-order payloads; the plaintext goes on as a stream of its own.
func ExampleSession() {
	keys := tlskeys.NewLog()
	if _, err := keys.AddFile("sslkeys.log"); err != nil {
		fmt.Println(err)
	}
	s := tls.NewSession(tls.Config{
		Keys: keys,
		OnData: func(d *tls.Data) {
			// d.Bytes is valid only here: copy it or hand it on at once.
			fmt.Printf("%s record %d at offset %d: %d bytes\n", d.Dir, d.Record, d.Offset, len(d.Bytes))
		},
		OnEvent: func(e tls.Event) { fmt.Println(e) },
	})
	var clientBytes, serverBytes []byte // a flow's payloads, as the flow table delivers them
	s.Feed(netflow.ClientToServer, clientBytes)
	s.Feed(netflow.ServerToClient, serverBytes)
	// On a flow table Delivery with Gap set: s.Gap(dir, 0) before its payload.
	sum := s.Close()
	fmt.Println(sum.Status, sum.Reason)
}

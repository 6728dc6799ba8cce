//go:debug cryptocustomrand=1

package netfixture

import (
	"bytes"
	"reflect"
	"testing"
)

// A seeded session is the same bytes every time, and its key log opens it (the engine's TLS
// tests check the decryption; here the key log must at least be the same).
func TestTLSSessionSeeded(t *testing.T) {
	run := func(seed uint64) ([]Chunk, []byte) {
		var keys bytes.Buffer
		c, err := TLSSession(TLSOptions{ServerName: "a.example", ALPN: []string{"http/1.1"}, Seed: seed, KeyLog: &keys,
			Request: []byte("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"), Response: []byte("HTTP/1.1 204 No Content\r\n\r\n")})
		if err != nil {
			t.Fatal(err)
		}
		return c, keys.Bytes()
	}
	a, ka := run(7)
	b, kb := run(7)
	if !reflect.DeepEqual(a, b) || !bytes.Equal(ka, kb) {
		t.Fatal("the same seed gave different sessions")
	}
	c, _ := run(8)
	if reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same session")
	}
	if !bytes.Contains(ka, []byte("CLIENT_TRAFFIC_SECRET_0 ")) {
		t.Fatalf("key log lacks the traffic secrets:\n%s", ka)
	}
}

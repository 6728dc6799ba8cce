package tls

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"testing"
)

var testExchanges = []exchange{
	{[]byte("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"), randomBytes(40000, 1)},
	{randomBytes(1000, 2), []byte("short")},
	{randomBytes(17000, 3), randomBytes(1, 4)},
}

// goSuites are the TLS 1.0–1.2 suites Go's crypto/tls implements, secure and insecure.
func goSuites() []*tls.CipherSuite {
	var out []*tls.CipherSuite
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for _, v := range cs.SupportedVersions {
			if v == tls.VersionTLS12 {
				out = append(out, cs)
				break
			}
		}
	}
	return out
}

func checkPlain(t *testing.T, name string, got [2][]byte, want [2][]byte, sum Summary) {
	t.Helper()
	for d := range 2 {
		if !bytes.Equal(got[d], want[d]) {
			t.Errorf("%s: direction %d: %d plaintext bytes, want %d (equal prefix %v); %s %s", name, d, len(got[d]), len(want[d]),
				bytes.HasPrefix(want[d], got[d]), sum.Status, sum.Reason)
		}
	}
	if sum.Status != StatusDecrypted {
		t.Errorf("%s: status %s (%s), events %v", name, sum.Status, sum.Reason, sum.Events)
	}
}

// TestGoTLS12Suites decrypts a session of every TLS 1.2 suite Go offers (its insecure ones
// included, enabled explicitly), byte for byte. RC4 suites are not decrypted: they must be
// reported unsupported with no plaintext.
func TestGoTLS12Suites(t *testing.T) {
	want := joined(testExchanges)
	for _, cs := range goSuites() {
		t.Run(cs.Name, func(t *testing.T) {
			var kl bytes.Buffer
			c, s := configs(t, &kl)
			c.CipherSuites, c.MaxVersion = []uint16{cs.ID}, tls.VersionTLS12
			s.CipherSuites, s.MaxVersion = []uint16{cs.ID}, tls.VersionTLS12
			w := goSession(t, c, s, testExchanges)
			got, sum := decryptWire(t, w, keysOf(t, kl.Bytes()), feedInOrder)
			if sum.Suite != cs.ID || sum.Version != tls.VersionTLS12 {
				t.Fatalf("negotiated %s %s", VersionName(sum.Version), SuiteName(sum.Suite))
			}
			if !SuiteSupported(cs.ID) {
				if sum.Status != StatusUnsupported || len(got[0])+len(got[1]) > 0 {
					t.Fatalf("unsupported suite: %s, %d bytes handed on", sum.Status, len(got[0])+len(got[1]))
				}
				return
			}
			checkPlain(t, cs.Name, got, want, sum)
		})
	}
}

// TestGoOldVersions: TLS 1.0 (implicit CBC IV, MD5/SHA-1 PRF) and TLS 1.1 (explicit IV).
func TestGoOldVersions(t *testing.T) {
	want := joined(testExchanges)
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		for _, id := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA} {
			name := fmt.Sprintf("%s/%s", VersionName(v), SuiteName(id))
			var kl bytes.Buffer
			c, s := configs(t, &kl)
			c.CipherSuites, c.MinVersion, c.MaxVersion = []uint16{id}, v, v
			s.CipherSuites, s.MinVersion, s.MaxVersion = []uint16{id}, v, v
			w := goSession(t, c, s, testExchanges)
			got, sum := decryptWire(t, w, keysOf(t, kl.Bytes()), feedInOrder)
			if sum.Version != v {
				t.Fatalf("%s: negotiated %s", name, VersionName(sum.Version))
			}
			checkPlain(t, name, got, want, sum)
		}
	}
}

// TestGoTLS13 decrypts TLS 1.3 sessions. Go chooses the TLS 1.3 suite itself (AES-128-GCM where
// the CPU has AES instructions); the other suites come from OpenSSL (openssl_test.go) and the
// draft-20 capture.
func TestGoTLS13(t *testing.T) {
	want := joined(testExchanges)
	for _, mode := range []feedMode{feedInOrder, feedBytewise, feedClientFirst} {
		var kl bytes.Buffer
		c, s := configs(t, &kl)
		w := goSession(t, c, s, testExchanges)
		got, sum := decryptWire(t, w, keysOf(t, kl.Bytes()), mode)
		if sum.Version != tls.VersionTLS13 {
			t.Fatalf("negotiated %s", VersionName(sum.Version))
		}
		checkPlain(t, fmt.Sprintf("mode %d %s", mode, sum.SuiteName), got, want, sum)
	}
}

// TestGoFeedModes: TLS 1.2 fed in tiny pieces and one direction after the other.
func TestGoFeedModes(t *testing.T) {
	want := joined(testExchanges)
	for _, id := range []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256} {
		var kl bytes.Buffer
		c, s := configs(t, &kl)
		c.CipherSuites, c.MaxVersion = []uint16{id}, tls.VersionTLS12
		s.CipherSuites = []uint16{id}
		w := goSession(t, c, s, testExchanges)
		for _, mode := range []feedMode{feedBytewise, feedClientFirst} {
			got, sum := decryptWire(t, w, keysOf(t, kl.Bytes()), mode)
			checkPlain(t, fmt.Sprintf("%s mode %d", SuiteName(id), mode), got, want, sum)
		}
	}
}

// TestGoHelloRetry: the server wants another key share group, so it answers with a
// HelloRetryRequest and the client sends a second ClientHello.
func TestGoHelloRetry(t *testing.T) {
	var kl bytes.Buffer
	c, s := configs(t, &kl)
	c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	s.CurvePreferences = []tls.CurveID{tls.CurveP256}
	w := goSession(t, c, s, testExchanges)
	got, sum := decryptWire(t, w, keysOf(t, kl.Bytes()), feedInOrder)
	if !sum.HelloRetry {
		t.Error("no HelloRetryRequest seen")
	}
	checkPlain(t, "hello retry", got, joined(testExchanges), sum)
}

// TestGoResumption: a second connection resumes the first with a session ticket. In TLS 1.2 Go
// logs no secret for the resumed session; its master secret comes from the session that issued
// the ticket. In TLS 1.3 the resumed session's secrets are logged as usual.
func TestGoResumption(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		var kl bytes.Buffer
		c, s := configs(t, &kl)
		c.MaxVersion = v
		c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		first := goSession(t, c, s, testExchanges)
		second := goSession(t, c, s, testExchanges)
		keys := keysOf(t, kl.Bytes())
		want := joined(testExchanges)
		got, sum := decryptWire(t, first, keys, feedInOrder)
		checkPlain(t, VersionName(v)+" first", got, want, sum)
		got, sum = decryptWire(t, second, keys, feedInOrder)
		if !sum.Resumed {
			t.Errorf("%s: second session not resumed", VersionName(v))
		}
		checkPlain(t, VersionName(v)+" resumed", got, want, sum)
	}
}

package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	klA = "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + strings.Repeat("0f", 32) + " " + strings.Repeat("a1", 32)
	klB = "SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("0f", 32) + " " + strings.Repeat("b2", 48)
	klC = "CLIENT_RANDOM " + strings.Repeat("11", 32) + " " + strings.Repeat("c3", 48)
)

func TestValidKeyLogLine(t *testing.T) {
	for line, want := range map[string]bool{
		klA: true, klB: true, klC: true,
		"RSA " + strings.Repeat("ab", 8) + " " + strings.Repeat("cd", 48): true,
		"client_random " + strings.Repeat("11", 32) + " 00":               false, // lower-case label
		"CLIENT_RANDOM " + strings.Repeat("1", 63) + " 00":                false, // odd hex
		"CLIENT_RANDOM " + strings.Repeat("zz", 32) + " 00":               false,
		"CLIENT_RANDOM " + strings.Repeat("11", 32):                       false,
		"# comment": false,
	} {
		if got := ValidKeyLogLine([]byte(line)); got != want {
			t.Errorf("ValidKeyLogLine(%.40q) = %v", line, got)
		}
	}
}

func TestKeyLogSplitterPartialLines(t *testing.T) {
	all := "# SSL/TLS secrets log file\n" + klA + "\r\n" + "garbage line\n" + klB + "\n\n" + klC + "\n"
	want := klA + "\n" + klB + "\n" + klC + "\n"
	// Every split point of the stream must give the same lines.
	for cut := 0; cut <= len(all); cut++ {
		var s KeyLogSplitter
		got := string(s.Feed([]byte(all[:cut]))) + string(s.Feed([]byte(all[cut:])))
		if got != want || s.Rejected != 1 {
			t.Fatalf("cut at %d: got %q rejected %d", cut, got, s.Rejected)
		}
	}
}

func TestKeyLogSplitterBoundsLongLines(t *testing.T) {
	var s KeyLogSplitter
	huge := bytes.Repeat([]byte("A"), maxKeyLogHold+10)
	for i := 0; i < len(huge); i += 1000 {
		if out := s.Feed(huge[i:min(i+1000, len(huge))]); len(out) > 0 {
			t.Fatal("output from an over-long line")
		}
	}
	if len(s.hold) > maxKeyLogHold {
		t.Fatalf("holding %d bytes", len(s.hold))
	}
	if got := string(s.Feed([]byte("tail\n" + klA + "\n"))); got != klA+"\n" {
		t.Fatalf("after the long line: %q", got)
	}
}

func TestKeyLogTailer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys.log")
	tl := NewKeyLogTailer(p)
	if out, err := tl.Poll(); err != nil || len(out) != 0 {
		t.Fatalf("missing file: %q %v", out, err)
	}
	f, _ := os.Create(p)
	f.WriteString(klA + "\n" + klB[:20])
	if out, _ := tl.Poll(); string(out) != klA+"\n" {
		t.Fatalf("first poll %q", out)
	}
	f.WriteString(klB[20:] + "\n")
	if out, _ := tl.Poll(); string(out) != klB+"\n" {
		t.Fatalf("second poll %q", out)
	}
	if out, _ := tl.Poll(); len(out) != 0 {
		t.Fatalf("idle poll %q", out)
	}
	// A rewritten, shorter file starts over.
	f.Close()
	os.WriteFile(p, []byte(klC+"\n"), 0o600)
	if out, _ := tl.Poll(); string(out) != klC+"\n" {
		t.Fatalf("after truncation %q", out)
	}
}

func FuzzKeyLogSplitter(f *testing.F) {
	f.Add([]byte(klA+"\n"+klB+"\r\n# c\n"+klC), uint16(10))
	f.Add([]byte("X 00 00\nY\n\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		c := int(cut) % (len(b) + 1)
		var one, two KeyLogSplitter
		whole := one.Feed(b)
		split := append(two.Feed(b[:c]), two.Feed(b[c:])...)
		if !bytes.Equal(whole, split) {
			t.Fatalf("split at %d changes the output:\n%q\n%q", c, whole, split)
		}
		for _, line := range bytes.SplitAfter(whole, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if line[len(line)-1] != '\n' || !ValidKeyLogLine(line[:len(line)-1]) {
				t.Fatalf("emitted invalid line %q", line)
			}
		}
	})
}

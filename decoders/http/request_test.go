package http

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/internal/netfixture"
)

// realRequest serialises a request with Go's net/http client code, the way a real client sends it.
func realRequest(t testing.TB, method, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "DJI-Fly/1.12")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseRealRequests(t *testing.T) {
	body := `{"lat":22.907809,"lng":113.703482}`
	raw := realRequest(t, "POST", "http://Flysafe-API.dji.com:8080/api/v1/geo_fence/noflyzone_params?x=1", body)
	for cut := 1; cut < len(raw); cut++ {
		r, _, complete, err := ParseHead(raw[:cut])
		if err != nil && cut > 5 {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if complete {
			if r.Host != "flysafe-api.dji.com" {
				t.Fatalf("host %q", r.Host)
			}
			break
		}
	}
	r, used, complete, err := ParseHead(raw)
	if err != nil || !complete {
		t.Fatal(complete, err)
	}
	if r.Method != "POST" || r.Target != "/api/v1/geo_fence/noflyzone_params?x=1" || r.Version != "HTTP/1.1" ||
		r.ContentType != "application/json" || r.UserAgent != "DJI-Fly/1.12" || r.ContentLength != int64(len(body)) {
		t.Fatalf("%+v", r)
	}
	if string(raw[used:]) != body {
		t.Fatalf("body after head: %q", raw[used:])
	}
	// Cross-check with net/http's own parser.
	std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil || std.Method != r.Method || std.RequestURI != r.Target {
		t.Fatalf("net/http reads %v %v", std, err)
	}
}

func TestAbsoluteFormAndIPv6(t *testing.T) {
	r, _, ok, err := ParseHead([]byte("GET http://[2001:db8::1]:80/x HTTP/1.0\n\n"))
	if err != nil || !ok || r.Host != "2001:db8::1" {
		t.Fatalf("%+v %v %v", r, ok, err)
	}
}

func TestNotHTTPAndOversize(t *testing.T) {
	if _, _, _, err := ParseHead([]byte{0x16, 3, 1, 0, 5}); err != ErrNotHTTP {
		t.Fatalf("TLS taken for HTTP: %v", err)
	}
	big := append([]byte("GET / HTTP/1.1\r\nX: "), bytes.Repeat([]byte("a"), MaxHead)...)
	if _, _, _, err := ParseHead(big); err == nil {
		t.Fatal("oversize head accepted")
	}
	if _, _, _, err := ParseHead([]byte("GET /\r\n\r\n")); err == nil {
		t.Fatal("bad request line accepted")
	}
}

func FuzzHTTPRequest(f *testing.F) {
	f.Add(realRequest(f, "POST", "http://api.djiservice.org/a", `{"a":1}`))
	f.Add(realRequest(f, "GET", "http://[::1]:8080/", ""))
	f.Add([]byte("CONNECT a:443 HTTP/1.1\n\n"))
	f.Add([]byte("POST /x?lat=1.5&lng=2.5 HTTP/1.1\r\nContent-Length: 17\r\n\r\n{\"lat\":1,\"lng\":2}"))
	// Real traffic from the corpus captures: whatever they carry is a protocol's hostile input too.
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, used, complete, err := ParseHead(b)
		if complete && (r == nil || err != nil || used > len(b)) {
			t.Fatalf("complete with %v %v used %d of %d", r, err, used, len(b))
		}
		var rec decodertest.Sink
		fl := Net{}.NewFlow(decoders.Input{}, &rec)
		fl.Segment(decoders.Segment{Payload: b})
		fl.Close()
	})
}

func BenchmarkParseHead(b *testing.B) {
	raw := realRequest(b, "POST", "http://flysafe-api.dji.com/api/v1/x", `{"lat":1}`)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, _, ok, _ := ParseHead(raw); !ok {
			b.Fatal("incomplete")
		}
	}
}

// parseHeadOld is ParseHead as it was before it walked the head's lines in place and read
// Content-Length without fmt: the reference for FuzzParseHeadSame.
func parseHeadOld(b []byte) (r *Request, used int, complete bool, err error) {
	if !LooksLike(b) {
		return nil, 0, false, ErrNotHTTP
	}
	lines, used, complete, err := splitHeadInto(nil, b)
	if !complete || err != nil {
		return nil, 0, false, err
	}
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return nil, 0, false, fmt.Errorf("http: offset 0: bad request line %q", truncate(lines[0]))
	}
	r = &Request{Method: parts[0], Target: parts[1], Version: parts[2], ContentLength: -1}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch fieldName(strings.TrimSpace(k), requestFields) {
		case "host":
			r.Host = hostOnly(v)
		case "user-agent":
			r.UserAgent = v
		case "content-type":
			r.ContentType = v
		case "content-length":
			var n int64
			if _, err := fmt.Sscanf(v, "%d", &n); err == nil && n >= 0 {
				r.ContentLength = n
			}
		}
	}
	if r.Host == "" && strings.Contains(r.Target, "://") {
		rest := r.Target[strings.Index(r.Target, "://")+3:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		r.Host = hostOnly(rest)
	}
	return r, used, true, nil
}

// TestScanDecimal checks the Content-Length reader against fmt.Sscanf on the edge cases.
func TestScanDecimal(t *testing.T) {
	for _, v := range []string{"", "0", "17", "+5", "-0", "-5", "+", "-", "12abc", "0x10", "1_000",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "00012", "\u0661", "½"} {
		var want int64
		_, err := fmt.Sscanf(v, "%d", &want)
		got, ok := scanDecimal(v)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("scanDecimal(%q) = %d, %v; Sscanf gives %d, %v", v, got, ok, want, err)
		}
	}
}

// FuzzParseHeadSame compares ParseHead with parseHeadOld on any input.
func FuzzParseHeadSame(f *testing.F) {
	f.Add([]byte("POST /x HTTP/1.1\r\nHost: A.example:80\r\nContent-Length: +17x\r\n\r\n"))
	f.Add([]byte("GET  / HTTP/1.1\n\n"))
	f.Add([]byte("GET / HTTP/1.0 \r\n\r\n"))
	f.Add([]byte("GET http://h.example/p HTTP/1.1\r\nContent-Length: -0\r\r\n\r\n"))
	f.Add([]byte("PUT / HTTP/1.1\r\ncontent-length:99999999999999999999\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, used, complete, err := ParseHead(b)
		r0, used0, complete0, err0 := parseHeadOld(b)
		if used != used0 || complete != complete0 || (err == nil) != (err0 == nil) ||
			(err != nil && err.Error() != err0.Error()) || (r == nil) != (r0 == nil) || (r != nil && *r != *r0) {
			t.Fatalf("ParseHead(%q) = %+v %d %v %v; before %+v %d %v %v", b, r, used, complete, err, r0, used0, complete0, err0)
		}
	})
}

package scantest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
)

// Traffic generates payloads of ordinary traffic that carries no location: TLS application
// data and compressed media (random bytes), HTTP/1.1 exchanges with JSON bodies of counters,
// prices, sensor readings, tokens and hashes, DNS queries, binary telemetry records of other
// quantities (voltages, temperatures, counters), and protobuf messages with small fields. Its
// numbers are drawn freely, so a pair that happens to land in a zone is possible, as in life;
// no coordinate is placed on purpose.
type Traffic struct {
	r   *rand.Rand
	buf []byte
}

// NewTraffic returns a generator; the same seed gives the same payloads.
func NewTraffic(seed uint64) *Traffic {
	return &Traffic{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Random fills b with uniformly random bytes.
func (t *Traffic) Random(b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], t.r.Uint64())
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(t.r.Uint32())
	}
}

// Next returns the next payload; it is valid until the next call.
func (t *Traffic) Next() []byte {
	r := t.r
	t.buf = t.buf[:0]
	switch k := r.IntN(100); {
	case k < 35: // TLS records, RTP video: ciphertext and compressed data
		n := 200 + r.IntN(16000)
		t.buf = append(t.buf, 0x17, 3, 3, byte(n>>8), byte(n))
		t.buf = append(t.buf, make([]byte, n)...)
		t.Random(t.buf[5:])
	case k < 55:
		t.http()
	case k < 65:
		t.dns()
	case k < 80:
		t.telemetry()
	default:
		t.protobuf()
	}
	return t.buf
}

var words = []string{"status", "battery", "temp", "speed", "fw", "serial", "token", "count", "price", "ratio", "signal", "uptime", "session", "voltage", "id", "ts", "ok", "mode"}

func (t *Traffic) http() {
	r := t.r
	body := []byte{'{'}
	for i, n := 0, 3+r.IntN(20); i < n; i++ {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, "%q:", words[r.IntN(len(words))])
		switch r.IntN(7) {
		case 0:
			body = fmt.Appendf(body, "%d", r.Int64N(1<<40))
		case 1:
			body = fmt.Appendf(body, "%.*f", 1+r.IntN(8), r.Float64()*math.Pow10(r.IntN(4)))
		case 2:
			b := make([]byte, 8+r.IntN(40))
			t.Random(b)
			body = fmt.Appendf(body, "%q", base64.StdEncoding.EncodeToString(b))
		case 3:
			b := make([]byte, 16+r.IntN(16))
			t.Random(b)
			body = fmt.Appendf(body, "%q", hex.EncodeToString(b))
		case 4:
			body = fmt.Appendf(body, "\"%d.%d.%d\"", r.IntN(10), r.IntN(30), r.IntN(200))
		case 5:
			body = fmt.Appendf(body, "[%.2f,%.2f,%.2f]", r.Float64()*100, r.Float64()*100, r.Float64()*100)
		default:
			body = fmt.Appendf(body, "%q", words[r.IntN(len(words))])
		}
	}
	body = append(body, '}')
	if r.IntN(2) == 0 {
		t.buf = fmt.Appendf(t.buf, "POST /api/v%d/%s?sid=%x&n=%d HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: app/%d.%d.%d (Android 13)\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			1+r.IntN(3), words[r.IntN(len(words))], r.Uint64(), r.IntN(1000), r.IntN(10), r.IntN(20), r.IntN(100), len(body))
	} else {
		t.buf = fmt.Appendf(t.buf, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 %02d:%02d:%02d GMT\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			r.IntN(24), r.IntN(60), r.IntN(60), len(body))
	}
	t.buf = append(t.buf, body...)
}

func (t *Traffic) dns() {
	r := t.r
	t.buf = binary.BigEndian.AppendUint16(t.buf, uint16(r.Uint32()))
	t.buf = append(t.buf, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	for i, n := 0, 2+r.IntN(3); i < n; i++ {
		l := words[r.IntN(len(words))]
		if r.IntN(3) == 0 {
			l = fmt.Sprintf("%s-%d", l, r.IntN(100))
		}
		t.buf = append(t.buf, byte(len(l)))
		t.buf = append(t.buf, l...)
	}
	t.buf = append(t.buf, 3, 'c', 'o', 'm', 0, 0, 1, 0, 1)
}

func (t *Traffic) telemetry() {
	r := t.r
	le := binary.LittleEndian
	ms := r.Uint32N(1 << 24)
	for i, n := 0, 5+r.IntN(60); i < n; i++ {
		ms += 100
		t.buf = le.AppendUint32(t.buf, ms)
		t.buf = le.AppendUint16(t.buf, uint16(11000+r.IntN(1600)))                   // battery mV
		t.buf = le.AppendUint16(t.buf, uint16(int16(r.IntN(2000)-1000)))             // current cA
		t.buf = le.AppendUint32(t.buf, math.Float32bits(float32(20+r.Float64()*30))) // temperature
		t.buf = le.AppendUint32(t.buf, math.Float32bits(float32(r.Float64()*15)))    // speed m/s
		t.buf = le.AppendUint32(t.buf, uint32(r.IntN(1<<20)))                        // counter
		t.buf = append(t.buf, byte(r.IntN(4)), 0, 0, byte(r.IntN(100)))
	}
}

func (t *Traffic) protobuf() {
	r := t.r
	for i, n := 0, 3+r.IntN(30); i < n; i++ {
		field := uint64(1 + r.IntN(15))
		switch r.IntN(4) {
		case 0:
			t.buf = binary.AppendUvarint(t.buf, field<<3)
			t.buf = binary.AppendUvarint(t.buf, uint64(r.IntN(100000)))
		case 1:
			t.buf = binary.AppendUvarint(t.buf, field<<3|5)
			t.buf = binary.LittleEndian.AppendUint32(t.buf, math.Float32bits(float32(r.Float64()*100)))
		case 2:
			t.buf = binary.AppendUvarint(t.buf, field<<3|1)
			t.buf = binary.LittleEndian.AppendUint64(t.buf, uint64(1700000000000+r.Int64N(1e11))) // ms timestamp
		default:
			s := words[r.IntN(len(words))]
			t.buf = binary.AppendUvarint(t.buf, field<<3|2)
			t.buf = binary.AppendUvarint(t.buf, uint64(len(s)))
			t.buf = append(t.buf, s...)
		}
	}
}
